import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress } from "viem";
import { POD, SHARES_PER_POD } from "./helpers/fixture.ts";
import { deployReports, EVIDENCE, fileReport, REASON } from "./helpers/reports.ts";
import { nodeKey, registerNode } from "./helpers/registry.ts";
import { actAsTimelock, mineAt, stake } from "./helpers/unit.ts";

const connection = await network.create();
const reportsFixture = () => deployReports(connection);
const { viem } = connection;

const S = SHARES_PER_POD;
const MAX_SLASH = 500_000n;

/**
 * Reports loaded, the test acting as the governance timelock; alice stakes and bonds 1000 POD
 * and asks to unbond 800 shares' worth (active 200, pending 800).
 */
async function bonded() {
  const core = await connection.networkHelpers.loadFixture(reportsFixture);
  const tl = await actAsTimelock(connection, core);
  await stake(core, core.alice, 1000n * POD);
  await core.bondManager.write.bond([1000n * S], { account: core.alice.account });
  await core.bondManager.write.requestUnbond([800n * S], { account: core.alice.account });
  const [, unlocksAt] = await core.bondManager.read.pendingUnbond([core.a]);
  return { ...core, tl, unlocksAt };
}

describe("NodeReports: a reported account's bond is frozen", () => {
  it("a matured pending unbond cannot leave while a report is open (BondIsFrozen); the confirmation slashes it", async () => {
    const core = await bonded();
    const { nodeReports, bondManager, alice, tl, a, k, unlocksAt } = core;
    const id = await fileReport(core);
    await mineAt(connection, unlocksAt + 1n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      bondManager.write.withdrawUnbonded({ account: alice.account }),
      bondManager,
      "BondIsFrozen",
      [a],
    );

    // 50% of 1000: 200 active, 300 from the pending unbond that could not escape.
    const tx = nodeReports.write.confirmReport([id, MAX_SLASH], { account: tl });
    await viem.assertions.emitWithArgs(tx, bondManager, "BondUnfrozen", [a, 0n]);
    await viem.assertions.emitWithArgs(tx, nodeReports, "ReportConfirmed", [id, k, a, 500n * S, 50n * S, 450n * S, 0n]);
    assert.equal(await bondManager.read.freezesOf([a]), 0n);
    await viem.assertions.emitWithArgs(bondManager.write.withdrawUnbonded({ account: alice.account }), bondManager, "UnbondWithdrawn", [
      a,
      500n * S,
    ]);
  });

  it("while frozen the account still unbonds and cancels; a dismissal lets it withdraw again", async () => {
    const core = await bonded();
    const { nodeReports, bondManager, alice, tl, a } = core;
    const id = await fileReport(core);
    await viem.assertions.emitWithArgs(bondManager.write.cancelUnbond({ account: alice.account }), bondManager, "UnbondCancelled", [
      a,
      800n * S,
      1000n * S,
    ]);
    await bondManager.write.requestUnbond([300n * S], { account: alice.account });
    const [, unlocksAt] = await bondManager.read.pendingUnbond([a]);
    await mineAt(connection, unlocksAt);
    await viem.assertions.revertWithCustomErrorWithArgs(
      bondManager.write.withdrawUnbonded({ account: alice.account }),
      bondManager,
      "BondIsFrozen",
      [a],
    );
    await viem.assertions.emitWithArgs(nodeReports.write.dismissReport([id, REASON], { account: tl }), bondManager, "BondUnfrozen", [a, 0n]);
    await viem.assertions.emitWithArgs(bondManager.write.withdrawUnbonded({ account: alice.account }), bondManager, "UnbondWithdrawn", [
      a,
      300n * S,
    ]);
  });

  it("freezes nest across reports and nodes: each closed report lifts its own, the last one frees the bond", async () => {
    const core = await bonded();
    const { nodeReports, bondManager, alice, tl, a, unlocksAt } = core;
    const other = nodeKey("second");
    await registerNode(core, alice, other);
    const onNode = [await fileReport(core), await fileReport(core, core.carol, REASON)];
    const onOther = await fileReport({ ...core, k: getAddress(other.address) }, core.bob, EVIDENCE);
    assert.equal(await bondManager.read.freezesOf([a]), 3n);
    await mineAt(connection, unlocksAt);

    const closes = [
      [() => nodeReports.write.dismissReport([onNode[0]!, REASON], { account: tl }), 2n],
      [() => nodeReports.write.confirmReport([onOther, 0n], { account: tl }), 1n],
    ] as const;
    for (const [close, left] of closes) {
      await viem.assertions.emitWithArgs(close(), bondManager, "BondUnfrozen", [a, left]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.withdrawUnbonded({ account: alice.account }),
        bondManager,
        "BondIsFrozen",
        [a],
      );
    }
    await nodeReports.write.dismissReport([onNode[1]!, REASON], { account: tl });
    assert.equal(await bondManager.read.freezesOf([a]), 0n);
    await viem.assertions.emitWithArgs(bondManager.write.withdrawUnbonded({ account: alice.account }), bondManager, "UnbondWithdrawn", [
      a,
      800n * S,
    ]);
  });

  it("freezes only the reported node's account, never its reporters", async () => {
    const core = await bonded();
    const { bondManager, b, c } = core;
    await fileReport(core);
    await fileReport(core, core.carol, REASON);
    assert.deepEqual([await bondManager.read.freezesOf([b]), await bondManager.read.freezesOf([c])], [0n, 0n]);
    assert.equal(await bondManager.read.freezesOf([core.a]), 2n);
  });
});
