import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, keccak256, toHex, type Address } from "viem";
import { DAY, POD } from "./helpers/fixture.ts";
import { nextAt } from "./helpers/unit.ts";
import { epochRootOf, POOL_FUNDING, propose, proposeAndAccept, rewardsFixture, rewardTree } from "./helpers/rewards.ts";

const connection = await network.create();
const { viem } = connection;
const fixture = rewardsFixture(connection);
const smallPool = rewardsFixture(connection, {}, 1500n * POD);
/** Roots wait three epochs: several are pending at once. */
const longWindow = rewardsFixture(connection, { rootChallengeWindow: 3n * DAY });

async function setup(deployment = fixture) {
  const core = await connection.networkHelpers.loadFixture(deployment);
  const [a, b, c] = [core.alice, core.bob, core.carol].map((w) => getAddress(w.account.address)) as [Address, Address, Address];
  return { ...core, rd: core.rewardsDistributor, a, b, c };
}

type Setup = Awaited<ReturnType<typeof setup>>;
type Tree = ReturnType<typeof rewardTree>;

/** Proposes `tree` for `epoch` (its total: cumulative minus `previous`'s) and waits out the window. */
async function accept(core: Setup, epoch: bigint, tree: Tree, previous = 0n) {
  return proposeAndAccept(connection, core, epochRootOf(epoch, tree.root, tree.total - previous));
}

const claimArgs = (tree: Tree, account: Address, cumulative: bigint, bonded = false) =>
  [account, cumulative, tree.proof(account), bonded] as const;

describe("RewardsDistributor: claim", () => {
  it("refuses claims before any root and within the window (NoClaimableRoot); pays from its claimable time", async () => {
    const core = await setup();
    const { rd, a, b } = core;
    const tree = rewardTree({ [a]: 100n * POD, [b]: 50n * POD });
    await viem.assertions.revertWithCustomError(rd.write.claim(claimArgs(tree, a, 100n * POD)), rd, "NoClaimableRoot");
    await propose(connection, core, epochRootOf(0n, tree.root, tree.total));
    const { claimableAt } = await rd.read.epochRecord([0n]);
    await nextAt(connection, claimableAt - 1n);
    await viem.assertions.revertWithCustomError(rd.write.claim(claimArgs(tree, a, 100n * POD)), rd, "NoClaimableRoot");
    await nextAt(connection, claimableAt);
    await viem.assertions.emitWithArgs(rd.write.claim(claimArgs(tree, a, 100n * POD)), rd, "RewardsClaimed", [a, 0n, 100n * POD, 100n * POD]);
    const [exists, epoch] = await rd.read.claimableEpoch();
    assert.deepEqual([exists, epoch], [true, 0n]);
  });

  it("pays cumulative minus claimed to the account whoever calls, as liquid POD", async () => {
    const core = await setup();
    const { rd, podToken, bob, a, b } = core;
    const tree = rewardTree({ [a]: 100n * POD, [b]: 50n * POD });
    await accept(core, 0n, tree);
    const before = await podToken.read.balanceOf([a]);
    const { result } = await rd.simulate.claim(claimArgs(tree, a, 100n * POD), { account: bob.account.address });
    assert.equal(result, 100n * POD);
    const tx = rd.write.claim(claimArgs(tree, a, 100n * POD), { account: bob.account });
    await viem.assertions.emitWithArgs(tx, rd, "RewardsClaimed", [a, 0n, 100n * POD, 100n * POD]);
    await viem.assertions.emitWithArgs(tx, podToken, "Transfer", [getAddress(rd.address), a, 100n * POD]);
    assert.equal(await podToken.read.balanceOf([a]), before + 100n * POD);
    assert.equal(await podToken.read.balanceOf([rd.address]), POOL_FUNDING - 100n * POD);
    assert.equal(await rd.read.claimed([a]), 100n * POD);
    assert.equal(await rd.read.claimed([b]), 0n);
    // Claimable rewards are not reserved: bob's 50 POD still counts as surplus.
    assert.equal(await rd.read.poolSurplus(), POOL_FUNDING - 100n * POD);
  });

  it("refuses a wrong amount, a tampered proof and another account's proof (InvalidProof)", async () => {
    const core = await setup();
    const { rd, a, b, c } = core;
    const tree = rewardTree({ [a]: 100n * POD, [b]: 50n * POD, [c]: 20n * POD });
    await accept(core, 0n, tree);
    const proof = tree.proof(a);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.claim([a, 101n * POD, proof, false]), rd, "InvalidProof", [a, 101n * POD, 0n]);
    const tampered = [keccak256(toHex("sibling")), ...proof.slice(1)];
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.claim([a, 100n * POD, tampered, false]), rd, "InvalidProof", [a, 100n * POD, 0n]);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.claim([b, 100n * POD, proof, false]), rd, "InvalidProof", [b, 100n * POD, 0n]);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.claim([a, 100n * POD, [], false]), rd, "InvalidProof", [a, 100n * POD, 0n]);
  });

  it("refuses claiming the same cumulative twice (NothingToClaim), liquid or bonded", async () => {
    const core = await setup();
    const { rd, a, b } = core;
    const tree = rewardTree({ [a]: 100n * POD, [b]: 50n * POD });
    await accept(core, 0n, tree);
    await rd.write.claim(claimArgs(tree, a, 100n * POD));
    for (const bonded of [false, true]) {
      await viem.assertions.revertWithCustomErrorWithArgs(rd.write.claim(claimArgs(tree, a, 100n * POD, bonded)), rd, "NothingToClaim", [
        a,
        100n * POD,
        100n * POD,
      ]);
    }
  });

  it("pays each later root's increment; a late claimer gets its whole cumulative at once", async () => {
    const core = await setup();
    const { rd, podToken, a, b, c } = core;
    const tree0 = rewardTree({ [a]: 100n * POD, [b]: 50n * POD });
    const tree1 = rewardTree({ [a]: 250n * POD, [b]: 50n * POD, [c]: 30n * POD });
    await accept(core, 0n, tree0);
    await rd.write.claim(claimArgs(tree0, a, 100n * POD));
    await accept(core, 1n, tree1, tree0.total);
    const before = await podToken.read.balanceOf([a]);
    await viem.assertions.emitWithArgs(rd.write.claim(claimArgs(tree1, a, 250n * POD)), rd, "RewardsClaimed", [a, 1n, 250n * POD, 150n * POD]);
    assert.equal(await podToken.read.balanceOf([a]), before + 150n * POD);
    await viem.assertions.emitWithArgs(rd.write.claim(claimArgs(tree1, b, 50n * POD)), rd, "RewardsClaimed", [b, 1n, 50n * POD, 50n * POD]);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.claim(claimArgs(tree1, b, 50n * POD)), rd, "NothingToClaim", [b, 50n * POD, 50n * POD]);
    await rd.write.claim(claimArgs(tree1, c, 30n * POD));
    // Every promise is paid: the pool keeps exactly its funding minus the roots' totals.
    assert.equal(await podToken.read.balanceOf([rd.address]), POOL_FUNDING - 330n * POD);
    assert.equal(await rd.read.poolSurplus(), POOL_FUNDING - 330n * POD);
  });

  it("verifies against the latest claimable root only: not a pending one, not an older one", async () => {
    const core = await setup();
    const { rd, a, b } = core;
    const tree0 = rewardTree({ [a]: 100n * POD, [b]: 50n * POD });
    const tree1 = rewardTree({ [a]: 250n * POD, [b]: 50n * POD });
    await accept(core, 0n, tree0);
    await propose(connection, core, epochRootOf(1n, tree1.root, tree1.total - tree0.total));
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.claim(claimArgs(tree1, a, 250n * POD)), rd, "InvalidProof", [a, 250n * POD, 0n]);
    await rd.write.claim(claimArgs(tree0, b, 50n * POD));
    await nextAt(connection, (await rd.read.epochRecord([1n])).claimableAt);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.claim(claimArgs(tree0, a, 100n * POD)), rd, "InvalidProof", [a, 100n * POD, 1n]);
    await viem.assertions.emitWithArgs(rd.write.claim(claimArgs(tree1, a, 250n * POD)), rd, "RewardsClaimed", [a, 1n, 250n * POD, 250n * POD]);
  });

  it("never pays from a revoked root or the roots after it; their replacements pay after their own window", async () => {
    const core = await setup(longWindow);
    const { rd, deployer, a, b } = core;
    const tree0 = rewardTree({ [a]: 100n * POD, [b]: 50n * POD });
    const bad = rewardTree({ [a]: 100_000n * POD, [b]: 50n * POD });
    await accept(core, 0n, tree0);
    await propose(connection, core, epochRootOf(1n, bad.root, 1000n * POD));
    await propose(connection, core, epochRootOf(2n, bad.root, 0n));
    await rd.write.revokeRoot([1n], { account: deployer.account });
    await nextAt(connection, (await rd.read.epochRecord([2n])).claimableAt + 1n);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.claim(claimArgs(bad, a, 100_000n * POD)), rd, "InvalidProof", [a, 100_000n * POD, 0n]);
    assert.equal((await rd.read.claimableEpoch())[1], 0n);
    // Root 0 pays on, past the times its revoked successors would have taken over.
    await viem.assertions.emitWithArgs(rd.write.claim(claimArgs(tree0, b, 50n * POD)), rd, "RewardsClaimed", [b, 0n, 50n * POD, 50n * POD]);

    const tree1 = rewardTree({ [a]: 300n * POD, [b]: 50n * POD });
    const replaced = await accept(core, 1n, tree1, tree0.total);
    assert.ok(replaced.claimableAt > (await rd.read.epochRecord([2n])).claimableAt);
    await viem.assertions.emitWithArgs(rd.write.claim(claimArgs(tree1, a, 300n * POD)), rd, "RewardsClaimed", [a, 1n, 300n * POD, 300n * POD]);
  });

  it("accepts several roots at once when nobody claimed in between", async () => {
    const core = await setup();
    const { rd, a } = core;
    const trees = [1n, 2n, 3n].map((k) => rewardTree({ [a]: k * 100n * POD }));
    for (const [i, tree] of trees.entries()) {
      await propose(connection, core, epochRootOf(BigInt(i), tree.root, 100n * POD));
    }
    await nextAt(connection, (await rd.read.epochRecord([2n])).claimableAt);
    await viem.assertions.emitWithArgs(rd.write.claim(claimArgs(trees[2]!, a, 300n * POD)), rd, "RewardsClaimed", [a, 2n, 300n * POD, 300n * POD]);
    assert.equal(await rd.read.poolSurplus(), POOL_FUNDING - 300n * POD);
  });

  it("pays consecutive epochs that share a root through one window, as the first of them", async () => {
    const core = await setup(longWindow);
    const { rd, deployer, a, b } = core;
    const tree = rewardTree({ [a]: 100n * POD, [b]: 50n * POD });
    await accept(core, 0n, tree);
    // Nothing changed in epochs 1 and 2: same tree, zero totals.
    await propose(connection, core, epochRootOf(1n, tree.root, 0n));
    await connection.networkHelpers.time.increase(3600);
    await propose(connection, core, epochRootOf(2n, tree.root, 0n));
    await nextAt(connection, (await rd.read.epochRecord([1n])).claimableAt);
    await viem.assertions.emitWithArgs(rd.write.claim(claimArgs(tree, a, 100n * POD)), rd, "RewardsClaimed", [a, 0n, 100n * POD, 100n * POD]);
    assert.equal((await rd.read.claimableEpoch())[1], 1n);
    // Revoking epoch 2 keeps the shared root paying.
    await rd.write.revokeRoot([2n], { account: deployer.account });
    await nextAt(connection, (await rd.read.epochRecord([2n])).claimableAt + 1n);
    await viem.assertions.emitWithArgs(rd.write.claim(claimArgs(tree, b, 50n * POD)), rd, "RewardsClaimed", [b, 0n, 50n * POD, 50n * POD]);
  });

  it("refuses a leaf above the totals of every root up to its own (ClaimExceedsRootTotals)", async () => {
    const core = await setup();
    const { rd, a, b, c } = core;
    // The oracles signed a total of 100 POD over leaves that promise 160: alice's 150 alone is refused.
    const tree0 = rewardTree({ [a]: 150n * POD, [b]: 10n * POD });
    await accept(core, 0n, tree0, 60n * POD);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.claim(claimArgs(tree0, a, 150n * POD)), rd, "ClaimExceedsRootTotals", [
      150n * POD,
      100n * POD,
    ]);
    await rd.write.claim(claimArgs(tree0, b, 10n * POD));
    // Epoch 1 adds 61 POD: 161 in all, so alice's 150 now pays.
    const tree1 = rewardTree({ [a]: 150n * POD, [b]: 10n * POD, [c]: POD });
    await accept(core, 1n, tree1, 100n * POD);
    await viem.assertions.emitWithArgs(rd.write.claim(claimArgs(tree1, a, 150n * POD)), rd, "RewardsClaimed", [a, 1n, 150n * POD, 150n * POD]);
  });

  it("requires a new root to fit beside the pending roots only (PoolUnderfunded)", async () => {
    const core = await connection.networkHelpers.loadFixture(smallPool);
    const rd = core.rewardsDistributor;
    const [a, b] = [core.alice, core.bob].map((w) => getAddress(w.account.address)) as [Address, Address];
    const tree = rewardTree({ [a]: 600n * POD, [b]: 400n * POD });
    await proposeAndAccept(connection, core, epochRootOf(0n, tree.root, tree.total));
    await rd.write.claim(claimArgs(tree, a, 600n * POD));
    // 900 POD left and nothing pending: a 1000 POD root needs 1000 (bob's claimable 400 is not reserved).
    await viem.assertions.revertWithCustomErrorWithArgs(propose(connection, core, epochRootOf(1n, tree.root, 1000n * POD)), rd, "PoolUnderfunded", [
      1000n * POD,
      900n * POD,
    ]);
    await viem.assertions.emit(propose(connection, core, epochRootOf(1n, tree.root, 900n * POD)), rd, "RootProposed");
    assert.equal(await rd.read.poolSurplus(), 0n);
  });
});
