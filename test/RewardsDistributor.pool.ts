import assert from "node:assert/strict";
import { network } from "hardhat";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { MerkleTree } from "merkletreejs";
import { encodeAbiParameters, getAddress, keccak256, parseAbiParameters, toHex, zeroAddress, type Address, type Hex } from "viem";
import { CumulativeRewardTree } from "../sdk/src/merkle/tree.ts";
import { paramName, POD } from "./helpers/fixture.ts";
import { eventsIn, role } from "./helpers/unit.ts";
import { epochRootOf, POOL_FUNDING, propose, proposeAndAccept, rewardsFixture, rewardTree, validatorTree } from "./helpers/rewards.ts";

const connection = await network.create();
const { viem, networkHelpers } = connection;
const fixture = rewardsFixture(connection);
/** A pool of 1030 POD: a 1000 POD root leaves a 30 POD surplus. */
const tightPool = rewardsFixture(connection, {}, 1030n * POD);

async function setup(deployment = fixture) {
  const core = await networkHelpers.loadFixture(deployment);
  const [a, b, c, d] = [core.alice, core.bob, core.carol, core.dave].map((w) => getAddress(w.account.address)) as [
    Address,
    Address,
    Address,
    Address,
  ];
  return { ...core, rd: core.rewardsDistributor, a, b, c, d };
}

type Tree = ReturnType<typeof rewardTree>;
const claimArgs = (tree: Tree, account: Address, cumulative: bigint, bonded: boolean) =>
  [account, cumulative, tree.proof(account), bonded] as const;

/** A tight pool with a claimable 1000 POD root: alice 600, bob 400. */
async function tightRoot() {
  const core = await setup(tightPool);
  const tree = rewardTree({ [core.a]: 600n * POD, [core.b]: 400n * POD });
  await proposeAndAccept(connection, core, epochRootOf(0n, tree.root, tree.total));
  return { ...core, tree };
}

describe("RewardsDistributor: bonded claims", () => {
  it("stakes the reward plus the governed bonus and bonds the shares to the account", async () => {
    const core = await setup();
    const { rd, podToken, stakedPod, bondManager, protocolParams, bob, a, b } = core;
    const tree = rewardTree({ [a]: 1000n * POD, [b]: 10n * POD });
    await proposeAndAccept(connection, core, epochRootOf(0n, tree.root, tree.total));
    const bonusPpm = await protocolParams.read.getParameter([paramName("bondedClaimBonusPpm")]);
    const bonus = (1000n * POD * bonusPpm) / 1_000_000n;
    assert.equal(bonus, 50n * POD);
    const shares = await stakedPod.read.previewDeposit([1050n * POD]);
    const podBefore = await podToken.read.balanceOf([a]);
    const tx = rd.write.claim(claimArgs(tree, a, 1000n * POD, true), { account: bob.account });
    await viem.assertions.emitWithArgs(tx, rd, "BondedRewardsClaimed", [a, 0n, 1000n * POD, 1000n * POD, bonus]);
    const pool = getAddress(rd.address);
    await viem.assertions.emitWithArgs(tx, stakedPod, "Deposit", [pool, pool, 1050n * POD, shares]);
    await viem.assertions.emitWithArgs(tx, bondManager, "Bonded", [a, pool, shares, shares]);
    assert.equal(await bondManager.read.bondedShares([a]), shares);
    assert.equal(await stakedPod.read.balanceOf([pool]), 0n);
    assert.equal(await podToken.read.balanceOf([a]), podBefore);
    assert.equal(await podToken.read.balanceOf([pool]), POOL_FUNDING - 1050n * POD);
    assert.equal(await rd.read.claimed([a]), 1000n * POD);
    // Nothing is pending: the surplus is the whole balance (bob's claimable 10 POD is not reserved).
    assert.equal(await rd.read.poolSurplus(), POOL_FUNDING - 1050n * POD);
  });

  it("pays the bonus only beyond the claim and the pending roots (PoolUnderfunded); a liquid claim still pays", async () => {
    const core = await tightRoot();
    const { rd, bondManager, tree, a, b } = core;
    await viem.assertions.emitWithArgs(rd.write.claim(claimArgs(tree, a, 600n * POD, true)), rd, "BondedRewardsClaimed", [
      a,
      0n,
      600n * POD,
      600n * POD,
      30n * POD,
    ]);
    // 400 POD left. A pending 380 POD root leaves bob's 20 POD bonus nothing beyond his 400.
    await propose(connection, core, epochRootOf(1n, tree.root, 380n * POD));
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.claim(claimArgs(tree, b, 400n * POD, true)), rd, "PoolUnderfunded", [
      400n * POD,
      0n,
    ]);
    await viem.assertions.emitWithArgs(rd.write.claim(claimArgs(tree, b, 400n * POD, false)), rd, "RewardsClaimed", [b, 0n, 400n * POD, 400n * POD]);
    assert.equal(await bondManager.read.bondedShares([b]), 0n);
  });
});

describe("RewardsDistributor: payReporter", () => {
  async function asReports(core: Awaited<ReturnType<typeof setup>>) {
    const reports = getAddress(core.nodeReports.address);
    await networkHelpers.impersonateAccount(reports);
    await networkHelpers.setBalance(reports, 10n ** 20n);
    return { account: reports };
  }

  it("bonds the reporter's pay from the surplus, never from what pending roots promise", async () => {
    const core = await setup(tightPool);
    const { rd, bondManager, stakedPod, a, b, d } = core;
    const tree = rewardTree({ [a]: 600n * POD, [b]: 400n * POD });
    await propose(connection, core, epochRootOf(0n, tree.root, tree.total));
    const reports = await asReports(core);
    const shares = await stakedPod.read.previewDeposit([10n * POD]);
    assert.equal((await rd.simulate.payReporter([d, 10n * POD], reports)).result, 10n * POD);
    await viem.assertions.emitWithArgs(rd.write.payReporter([d, 10n * POD], reports), rd, "ReporterPaidFromPool", [d, 10n * POD]);
    assert.equal(await bondManager.read.bondedShares([d]), shares);
    // Asked for 100 with 20 left: pays 20.
    assert.equal((await rd.simulate.payReporter([d, 100n * POD], reports)).result, 20n * POD);
    await viem.assertions.emitWithArgs(rd.write.payReporter([d, 100n * POD], reports), rd, "ReporterPaidFromPool", [d, 20n * POD]);
    // Nothing left: pays nothing, says nothing.
    assert.equal((await rd.simulate.payReporter([d, POD], reports)).result, 0n);
    const hash = await rd.write.payReporter([d, POD], reports);
    assert.equal((await eventsIn(core, hash, rd, "ReporterPaidFromPool")).length, 0);
    // Every promised reward is still there once the root is claimable.
    await networkHelpers.time.increaseTo((await rd.read.epochRecord([0n])).claimableAt);
    await rd.write.claim(claimArgs(tree, a, 600n * POD, false));
    await rd.write.claim(claimArgs(tree, b, 400n * POD, false));
    assert.equal(await core.podToken.read.balanceOf([rd.address]), 0n);
  });

  it("does not reserve claimable rewards: they are paid first come, first served", async () => {
    const core = await tightRoot();
    const { rd, podToken, dave, tree, a, b, d } = core;
    const reports = await asReports(core);
    // Claims are not summed on-chain, so the claimable 1000 POD counts as surplus.
    assert.equal(await rd.read.poolSurplus(), 1030n * POD);
    await viem.assertions.emitWithArgs(rd.write.payReporter([d, 100n * POD], reports), rd, "ReporterPaidFromPool", [d, 100n * POD]);
    await rd.write.claim(claimArgs(tree, a, 600n * POD, false));
    const pool = getAddress(rd.address);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.claim(claimArgs(tree, b, 400n * POD, false)), podToken, "ERC20InsufficientBalance", [
      pool,
      330n * POD,
      400n * POD,
    ]);
    // Refilled, the pool pays bob in full.
    await podToken.write.transfer([pool, 70n * POD], { account: dave.account });
    await viem.assertions.emitWithArgs(rd.write.claim(claimArgs(tree, b, 400n * POD, false)), rd, "RewardsClaimed", [b, 0n, 400n * POD, 400n * POD]);
    assert.equal(await podToken.read.balanceOf([pool]), 0n);
  });

  it("refuses anyone without POOL_SPENDER_ROLE (AccessControlUnauthorizedAccount)", async () => {
    const { rd, alice, deployer, a } = await setup();
    for (const [caller, address] of [
      [alice, a],
      [deployer, getAddress(deployer.account.address)],
    ] as const) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        rd.write.payReporter([a, POD], { account: caller.account }),
        rd,
        "AccessControlUnauthorizedAccount",
        [address, role("POOL_SPENDER_ROLE")],
      );
    }
  });

  it("refuses a zero reporter or amount (ZeroAmount)", async () => {
    const core = await setup();
    const reports = await asReports(core);
    await viem.assertions.revertWithCustomError(core.rd.write.payReporter([zeroAddress, POD], reports), core.rd, "ZeroAmount");
    await viem.assertions.revertWithCustomError(core.rd.write.payReporter([core.d, 0n], reports), core.rd, "ZeroAmount");
  });
});

describe("RewardsDistributor: isValidator", () => {
  it("answers from the claimable epoch's validator tree", async () => {
    const core = await setup();
    const { rd, a, b, c } = core;
    const validators = validatorTree([a, b]);
    const rewards = rewardTree({ [a]: POD });
    const epochRoot = epochRootOf(0n, rewards.root, POD, validators.root);
    assert.equal(await rd.read.isValidator([a, validators.proof(a)]), false);
    await proposeAndAccept(connection, core, epochRoot);
    assert.equal(await rd.read.isValidator([a, validators.proof(a)]), true);
    assert.equal(await rd.read.isValidator([b, validators.proof(b)]), true);
    assert.equal(await rd.read.isValidator([c, validators.proof(a)]), false);
    assert.equal(await rd.read.isValidator([c, []]), false);
    // A later epoch with no validators root lists nobody.
    await proposeAndAccept(connection, core, epochRootOf(1n, rewards.root, 0n));
    assert.equal(await rd.read.isValidator([a, validators.proof(a)]), false);
  });
});

describe("RewardsDistributor: merkletreejs and @openzeppelin/merkle-tree", () => {
  const noble = (bytes: Uint8Array) => Buffer.from(keccak_256(bytes));
  const leafHash = (account: Address, amount: bigint): Hex =>
    keccak256(keccak256(encodeAbiParameters(parseAbiParameters("address, uint256"), [account, amount])));

  /**
   * merkletreejs' complete tree over StandardMerkleTree's leaf row: OpenZeppelin puts the k-th
   * smallest leaf hash at heap index 2n-2-k, so the row reads the smallest hashes (on the deepest
   * level) in descending order, then the rest in descending order.
   */
  function merkletreejs(leaves: readonly Hex[]): MerkleTree {
    const n = leaves.length;
    const descending = [...leaves].sort().reverse();
    const deepest = 2 * n - 1 - (2 ** Math.floor(Math.log2(2 * n - 1)) - 1);
    const row = [...descending.slice(n - deepest), ...descending.slice(0, n - deepest)];
    return new MerkleTree(
      row.map((h) => Buffer.from(h.slice(2), "hex")),
      noble,
      { complete: true, sortPairs: true },
    );
  }

  it("give the same root for the same leaves, and both proofs claim on-chain", async () => {
    const core = await setup();
    const { rd, a, b, c, d } = core;
    const extra = [1, 2, 3].map((i) => getAddress(`0x${keccak256(toHex(`extra ${i}`)).slice(26)}`));
    const values: [Address, bigint][] = [
      [a, 100n * POD],
      [b, 50n * POD],
      [c, 25n * POD],
      [d, 12n * POD],
      ...extra.map((x, i): [Address, bigint] => [x, BigInt(i + 1) * POD]),
    ];
    const oz = StandardMerkleTree.of(values, ["address", "uint256"]);
    const mt = merkletreejs(values.map(([account, amount]) => leafHash(account, amount)));
    const oracle = CumulativeRewardTree.build(values.map(([account, cumulativeReward]) => ({ account, cumulativeReward })));
    assert.equal(mt.getHexRoot(), oz.root);
    assert.equal(oracle.root, oz.root);

    const total = values.reduce((sum, [, amount]) => sum + amount, 0n);
    await proposeAndAccept(connection, core, epochRootOf(0n, oz.root as Hex, total));
    const mtProof = mt.getHexProof(Buffer.from(leafHash(a, 100n * POD).slice(2), "hex")) as Hex[];
    await viem.assertions.emitWithArgs(rd.write.claim([a, 100n * POD, mtProof, false]), rd, "RewardsClaimed", [a, 0n, 100n * POD, 100n * POD]);
    const ozProof = oz.getProof([b, 50n * POD]) as Hex[];
    await viem.assertions.emitWithArgs(rd.write.claim([b, 50n * POD, ozProof, false]), rd, "RewardsClaimed", [b, 0n, 50n * POD, 50n * POD]);
    assert.deepEqual(mt.getHexProof(Buffer.from(leafHash(c, 25n * POD).slice(2), "hex")), oz.getProof([c, 25n * POD]));
  });
});
