import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, hashTypedData, keccak256, recoverTypedDataAddress, toHex, zeroAddress, zeroHash, type Hex } from "viem";
import { EPOCH_ROOT_TYPES, settlementDomain } from "../sdk/src/typedData.ts";
import { DAY, now, paramName, POD } from "./helpers/fixture.ts";
import { actAsTimelock, eventsIn, mineAt, minedAt, nextAt, role } from "./helpers/unit.ts";
import {
  epochClose,
  epochRootOf,
  ORACLES,
  OUTSIDER,
  POOL_FUNDING,
  propose,
  QUORUM,
  rewardsFixture,
  signEpochRoot,
} from "./helpers/rewards.ts";

const connection = await network.create();
const { viem } = connection;
const fixture = rewardsFixture(connection);

const PROPOSED = 1;
const REVOKED = 2;
const ROOT = keccak256(toHex("root"));
const [O0, O1, O2] = ORACLES.map((o) => getAddress(o.address)) as [Hex, Hex, Hex];

async function setup() {
  const core = await connection.networkHelpers.loadFixture(fixture);
  const timelock = await actAsTimelock(connection, core);
  return { ...core, rd: core.rewardsDistributor, governance: timelock };
}

describe("RewardsDistributor: oracles", () => {
  it("deploys with the oracle set, an empty schedule, the funded pool and the governed roles", async () => {
    const { rd, governance: timelock, deployer, nodeReports, publicClient } = await setup();
    assert.deepEqual(await rd.read.oracles(), [[O0, O1, O2], QUORUM]);
    assert.equal(await rd.read.nextEpoch(), 0n);
    assert.equal(await rd.read.poolSurplus(), POOL_FUNDING);
    const [exists, epoch, record] = await rd.read.claimableEpoch();
    assert.deepEqual([exists, epoch, record.status], [false, 0n, 0]);
    assert.ok(await rd.read.hasRole([zeroHash, timelock]));
    assert.ok(await rd.read.hasRole([role("GUARDIAN_ROLE"), deployer.account.address]));
    assert.ok(await rd.read.hasRole([role("POOL_SPENDER_ROLE"), nodeReports.address]));
    assert.equal(await rd.read.hasRole([zeroHash, deployer.account.address]), false);
    const events = await publicClient.getContractEvents({ address: rd.address, abi: rd.abi, eventName: "OracleSetChanged", fromBlock: 0n });
    assert.deepEqual(events.map((e) => e.args), [{ oracles: [O0, O1, O2], quorum: QUORUM }]);
  });

  it("exposes the digest the oracles sign (sdk EPOCH_ROOT_TYPES, the contract's domain)", async () => {
    const { rd, publicClient } = await setup();
    const epochRoot = epochRootOf(3n, ROOT, 7n * POD, keccak256(toHex("validators")));
    const domain = settlementDomain("rewardsDistributor", await publicClient.getChainId(), rd.address);
    const expected = hashTypedData({ domain, types: EPOCH_ROOT_TYPES, primaryType: "EpochRoot", message: epochRoot });
    assert.equal(await rd.read.epochRootDigest([epochRoot]), expected);
  });

  it("governance replaces the set (OracleSetChanged); only the new oracles count", async () => {
    const core = await setup();
    const { rd, governance: timelock } = core;
    const newSet = [O2, getAddress(OUTSIDER.address)];
    await viem.assertions.emitWithArgs(rd.write.setOracles([newSet, 1n], { account: timelock }), rd, "OracleSetChanged", [newSet, 1n]);
    assert.deepEqual(await rd.read.oracles(), [newSet, 1n]);
    const epochRoot = epochRootOf(0n, ROOT, POD);
    const byOld = await signEpochRoot(core, epochRoot, [ORACLES[0]!]);
    await nextAt(connection, await epochClose(core, 0n));
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.proposeRoot([epochRoot, byOld]), rd, "NotOracle", [O0]);
    const byNew = await signEpochRoot(core, epochRoot, [OUTSIDER]);
    await viem.assertions.emit(rd.write.proposeRoot([epochRoot, byNew]), rd, "RootProposed");
  });

  it("refuses a set from anyone but governance (AccessControlUnauthorizedAccount)", async () => {
    const { rd, alice, deployer } = await setup();
    for (const caller of [alice, deployer]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        rd.write.setOracles([[O0], 1n], { account: caller.account }),
        rd,
        "AccessControlUnauthorizedAccount",
        [getAddress(caller.account.address), zeroHash],
      );
    }
  });

  it("refuses empty sets, impossible quorums, duplicates and the zero address (InvalidOracleSet)", async () => {
    const { rd, governance: timelock } = await setup();
    const cases: [Hex[], bigint][] = [
      [[], 0n],
      [[], 1n],
      [[O0, O1, O2], 0n],
      [[O0, O1, O2], 4n],
      [[O0, O1, O0], 2n],
      [[O0, zeroAddress], 1n],
    ];
    for (const [set, quorum] of cases) {
      await viem.assertions.revertWithCustomErrorWithArgs(rd.write.setOracles([set, quorum], { account: timelock }), rd, "InvalidOracleSet", [
        BigInt(set.length),
        quorum,
      ]);
    }
  });
});

describe("RewardsDistributor: proposeRoot", () => {
  it("records a quorum-signed root from any submitter (RootProposed), claimable after the window", async () => {
    const core = await setup();
    const { rd, alice, a } = { ...core, a: getAddress(core.alice.account.address) };
    const epochRoot = epochRootOf(0n, ROOT, 1000n * POD, keccak256(toHex("validators")));
    const signatures = await signEpochRoot(core, epochRoot);
    const closesAt = await epochClose(core, 0n);
    await nextAt(connection, closesAt);
    const tx = rd.write.proposeRoot([epochRoot, signatures], { account: alice.account });
    await viem.assertions.emitWithArgs(tx, rd, "RootProposed", [
      0n,
      ROOT,
      1000n * POD,
      epochRoot.reportHash,
      epochRoot.validatorsRoot,
      closesAt + DAY,
      a,
    ]);
    assert.deepEqual(await rd.read.epochRecord([0n]), {
      root: ROOT,
      reportHash: epochRoot.reportHash,
      validatorsRoot: epochRoot.validatorsRoot,
      total: 1000n * POD,
      claimableAt: closesAt + DAY,
      status: PROPOSED,
    });
    assert.equal(await rd.read.nextEpoch(), 1n);
    assert.equal(await rd.read.poolSurplus(), POOL_FUNDING - 1000n * POD);
    assert.equal((await rd.read.claimableEpoch())[0], false);
  });

  it("accepts every oracle signing, and roots epoch after epoch", async () => {
    const core = await setup();
    const { rd } = core;
    const first = epochRootOf(0n, ROOT, POD);
    await nextAt(connection, await epochClose(core, 0n));
    await viem.assertions.emit(rd.write.proposeRoot([first, await signEpochRoot(core, first, ORACLES)]), rd, "RootProposed");
    await viem.assertions.emit(propose(connection, core, epochRootOf(1n, ROOT, POD)), rd, "RootProposed");
    assert.equal(await rd.read.nextEpoch(), 2n);
  });

  it("refuses signers out of order or twice (SignersNotAscending)", async () => {
    const core = await setup();
    const { rd } = core;
    const epochRoot = epochRootOf(0n, ROOT, POD);
    await nextAt(connection, await epochClose(core, 0n));
    const descending = await signEpochRoot(core, epochRoot, [ORACLES[1]!, ORACLES[0]!]);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.proposeRoot([epochRoot, descending]), rd, "SignersNotAscending", [O0, O1]);
    const twice = await signEpochRoot(core, epochRoot, [ORACLES[0]!, ORACLES[0]!]);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.proposeRoot([epochRoot, twice]), rd, "SignersNotAscending", [O0, O0]);
  });

  it("refuses fewer signatures than the quorum (QuorumNotReached)", async () => {
    const core = await setup();
    const { rd } = core;
    const epochRoot = epochRootOf(0n, ROOT, POD);
    await nextAt(connection, await epochClose(core, 0n));
    const one = await signEpochRoot(core, epochRoot, [ORACLES[0]!]);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.proposeRoot([epochRoot, one]), rd, "QuorumNotReached", [1n, QUORUM]);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.proposeRoot([epochRoot, []]), rd, "QuorumNotReached", [0n, QUORUM]);
  });

  it("refuses a non-oracle signer and a signature over other data (NotOracle)", async () => {
    const core = await setup();
    const { rd, publicClient } = core;
    const epochRoot = epochRootOf(0n, ROOT, POD);
    await nextAt(connection, await epochClose(core, 0n));
    const [outsider] = await signEpochRoot(core, epochRoot, [OUTSIDER]);
    const [good] = await signEpochRoot(core, epochRoot, [ORACLES[0]!]);
    const withOutsider = BigInt(OUTSIDER.address) > BigInt(O0) ? [good!, outsider!] : [outsider!, good!];
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.proposeRoot([epochRoot, withOutsider]), rd, "NotOracle", [
      getAddress(OUTSIDER.address),
    ]);
    // Signed with a total the submitter then raises: recovers to some unrelated address.
    const signed = await signEpochRoot(core, epochRoot);
    const raised = { ...epochRoot, total: 2n * POD };
    const domain = settlementDomain("rewardsDistributor", await publicClient.getChainId(), rd.address);
    const recovered = await recoverTypedDataAddress({
      domain,
      types: EPOCH_ROOT_TYPES,
      primaryType: "EpochRoot",
      message: raised,
      signature: signed[0]!,
    });
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.proposeRoot([raised, signed]), rd, "NotOracle", [recovered]);
  });

  it("refuses malformed signatures (OpenZeppelin ECDSA errors)", async () => {
    const core = await setup();
    const { rd } = core;
    const epochRoot = epochRootOf(0n, ROOT, POD);
    await nextAt(connection, await epochClose(core, 0n));
    const [good] = await signEpochRoot(core, epochRoot, [ORACLES[0]!]);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.proposeRoot([epochRoot, [good!, "0x1234"]]), rd, "ECDSAInvalidSignatureLength", [2n]);
    const zero = `0x${"00".repeat(65)}` as Hex;
    await viem.assertions.revertWithCustomError(rd.write.proposeRoot([epochRoot, [good!, zero]]), rd, "ECDSAInvalidSignature");
  });

  it("refuses epochs out of order (EpochOutOfOrder)", async () => {
    const core = await setup();
    const { rd } = core;
    const skipped = epochRootOf(1n, ROOT, POD);
    await nextAt(connection, await epochClose(core, 1n));
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.proposeRoot([skipped, await signEpochRoot(core, skipped)]), rd, "EpochOutOfOrder", [1n, 0n]);
    await propose(connection, core, epochRootOf(0n, ROOT, POD));
    const again = epochRootOf(0n, ROOT, POD);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.proposeRoot([again, await signEpochRoot(core, again)]), rd, "EpochOutOfOrder", [0n, 1n]);
  });

  it("refuses an epoch before it closes (EpochNotClosed), accepts it at the close", async () => {
    const core = await setup();
    const { rd } = core;
    const epochRoot = epochRootOf(0n, ROOT, POD);
    const signatures = await signEpochRoot(core, epochRoot);
    const closesAt = await epochClose(core, 0n);
    await nextAt(connection, closesAt - 1n);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.proposeRoot([epochRoot, signatures]), rd, "EpochNotClosed", [0n, closesAt]);
    await nextAt(connection, closesAt);
    await viem.assertions.emit(rd.write.proposeRoot([epochRoot, signatures]), rd, "RootProposed");
  });

  it("refuses a total above the epoch's emission budget (EpochBudgetExceeded), accepts the budget", async () => {
    const core = await setup();
    const { rd, protocolParams } = core;
    const budget = await protocolParams.read.getParameter([paramName("epochEmissionBudget")]);
    const over = epochRootOf(0n, ROOT, budget + 1n);
    await nextAt(connection, await epochClose(core, 0n));
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.proposeRoot([over, await signEpochRoot(core, over)]), rd, "EpochBudgetExceeded", [
      0n,
      budget + 1n,
      budget,
    ]);
    await viem.assertions.emit(propose(connection, core, epochRootOf(0n, ROOT, budget)), rd, "RootProposed");
  });

  it("refuses a root the pool cannot cover beside the roots still pending (PoolUnderfunded)", async () => {
    const small = rewardsFixture(connection, {}, 1500n * POD);
    const core = await connection.networkHelpers.loadFixture(small);
    const rd = core.rewardsDistributor;
    // Epoch 0's root comes an hour late, so it is still pending when epoch 1 closes.
    await nextAt(connection, (await epochClose(core, 0n)) + 3600n);
    const first = epochRootOf(0n, ROOT, 1000n * POD);
    await rd.write.proposeRoot([first, await signEpochRoot(core, first)]);
    const next = epochRootOf(1n, ROOT, 501n * POD);
    await nextAt(connection, await epochClose(core, 1n));
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.proposeRoot([next, await signEpochRoot(core, next)]), rd, "PoolUnderfunded", [
      1501n * POD,
      1500n * POD,
    ]);
    await viem.assertions.emit(propose(connection, core, epochRootOf(1n, ROOT, 500n * POD)), rd, "RootProposed");
    assert.equal(await rd.read.poolSurplus(), 0n);
  });

  it("never makes a root claimable before the previous one, even if the window shrinks", async () => {
    const core = await setup();
    const { rd, protocolParams, governance: timelock } = core;
    // Epoch 0's root comes late, just before epoch 1 closes; then governance drops the window.
    const lateAt = (await epochClose(core, 1n)) - 10n;
    await nextAt(connection, lateAt);
    const first = epochRootOf(0n, ROOT, POD);
    await rd.write.proposeRoot([first, await signEpochRoot(core, first)]);
    await protocolParams.write.setParameter([paramName("rootChallengeWindow"), 0n], { account: timelock });
    await propose(connection, core, epochRootOf(1n, ROOT, POD));
    assert.equal((await rd.read.epochRecord([1n])).claimableAt, lateAt + DAY);
  });
});

describe("RewardsDistributor: revokeRoot", () => {
  /** Epochs 0, 1 and 2 proposed an hour apart once epoch 2 has closed: all three pending. */
  async function threePending() {
    const core = await setup();
    await mineAt(connection, await epochClose(core, 2n));
    for (const epoch of [0n, 1n, 2n]) {
      await propose(connection, core, epochRootOf(epoch, ROOT, (epoch + 1n) * POD));
      await connection.networkHelpers.time.increase(3600);
    }
    return core;
  }

  it("lets the guardian revoke a pending root (RootRevoked); the epoch is proposed again", async () => {
    const core = await setup();
    const { rd, deployer } = core;
    await propose(connection, core, epochRootOf(0n, ROOT, 10n * POD));
    const guardian = getAddress(deployer.account.address);
    await viem.assertions.emitWithArgs(rd.write.revokeRoot([0n], { account: deployer.account }), rd, "RootRevoked", [0n, guardian]);
    assert.equal((await rd.read.epochRecord([0n])).status, REVOKED);
    assert.equal(await rd.read.nextEpoch(), 0n);
    assert.equal(await rd.read.poolSurplus(), POOL_FUNDING);
    const fixed = epochRootOf(0n, keccak256(toHex("fixed root")), 9n * POD);
    await propose(connection, core, fixed);
    const record = await rd.read.epochRecord([0n]);
    assert.deepEqual([record.root, record.total, record.status], [fixed.root, 9n * POD, PROPOSED]);
  });

  it("revokes the root and every later one; governance may revoke too", async () => {
    const core = await threePending();
    const { rd, governance: timelock } = core;
    const hash = await rd.write.revokeRoot([1n], { account: timelock });
    const events = await eventsIn(core, hash, rd, "RootRevoked");
    assert.deepEqual(events.map((e) => e.args), [
      { epoch: 1n, by: timelock },
      { epoch: 2n, by: timelock },
    ]);
    const statuses = await Promise.all([0n, 1n, 2n].map(async (e) => (await rd.read.epochRecord([e])).status));
    assert.deepEqual(statuses, [PROPOSED, REVOKED, REVOKED]);
    assert.equal(await rd.read.nextEpoch(), 1n);
    assert.equal(await rd.read.poolSurplus(), POOL_FUNDING - POD);
  });

  it("refuses anyone but the guardian or governance (AccessControlUnauthorizedAccount)", async () => {
    const { rd, alice } = await threePending();
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.revokeRoot([0n], { account: alice.account }), rd, "AccessControlUnauthorizedAccount", [
      getAddress(alice.account.address),
      role("GUARDIAN_ROLE"),
    ]);
  });

  it("refuses unknown, revoked and claimable roots (RootNotRevocable)", async () => {
    const core = await threePending();
    const { rd, deployer } = core;
    const guardian = { account: deployer.account };
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.revokeRoot([3n], guardian), rd, "RootNotRevocable", [3n, 0, 0n]);
    await rd.write.revokeRoot([2n], guardian);
    const revoked = await rd.read.epochRecord([2n]);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.revokeRoot([2n], guardian), rd, "RootNotRevocable", [
      2n,
      REVOKED,
      revoked.claimableAt,
    ]);
    const first = await rd.read.epochRecord([0n]);
    await nextAt(connection, first.claimableAt);
    await viem.assertions.revertWithCustomErrorWithArgs(rd.write.revokeRoot([0n], guardian), rd, "RootNotRevocable", [
      0n,
      PROPOSED,
      first.claimableAt,
    ]);
    // Root 1 is still in its window (proposed an hour later): it may go, alone.
    const hash = await rd.write.revokeRoot([1n], guardian);
    assert.ok((await minedAt(core, hash)) < (await rd.read.epochRecord([1n])).claimableAt);
    assert.equal(await rd.read.nextEpoch(), 1n);
    assert.equal((await rd.read.claimableEpoch())[1], 0n);
    assert.ok((await now(connection)) >= first.claimableAt);
  });
});
