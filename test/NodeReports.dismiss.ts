import assert from "node:assert/strict";
import { network } from "hardhat";
import { stringToHex } from "viem";
import { POD, SHARES_PER_POD } from "./helpers/fixture.ts";
import { keyProof, METADATA, MODEL_A } from "./helpers/registry.ts";
import { deployReports, fileReport, NODE, REASON } from "./helpers/reports.ts";
import { actAsTimelock, eventsIn, stake } from "./helpers/unit.ts";

const connection = await network.create();
const reportsFixture = () => deployReports(connection);
const { viem } = connection;

const S = SHARES_PER_POD;
const Status = { Open: 1, Confirmed: 2, Dismissed: 3 } as const;
const GOVERNANCE = stringToHex("governance review", { size: 32 });

async function reports() {
  const core = await connection.networkHelpers.loadFixture(reportsFixture);
  return { ...core, tl: await actAsTimelock(connection, core) };
}

/** Bob and carol report NODE: two open reports, reportsToSuspend (2) reached, the node suspended. */
async function suspended(core: Awaited<ReturnType<typeof reports>>) {
  return [await fileReport(core), await fileReport(core, core.carol, REASON)] as const;
}

describe("NodeReports: dismissal and reports left open", () => {
  it("dismisses a report (ReportDismissed) and lifts its freeze on the account (BondUnfrozen)", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, bondManager, tl, a, b, k } = core;
    const id = await fileReport(core);
    const tx = nodeReports.write.dismissReport([id, REASON], { account: tl });
    await viem.assertions.emitWithArgs(tx, nodeReports, "ReportDismissed", [id, k, REASON]);
    await viem.assertions.emitWithArgs(tx, bondManager, "BondUnfrozen", [a, 0n]);
    assert.equal((await eventsIn(core, await tx, nodeRegistry, "NodeSuspensionChanged")).length, 0, "one report suspended nothing");
    assert.equal((await nodeReports.read.getReport([id])).status, Status.Dismissed);
    assert.deepEqual(await nodeReports.read.nodeReportState([k]), [0n, 0n]);
    assert.equal(await nodeReports.read.hasOpenReport([b, k]), false);
    assert.equal(await bondManager.read.freezesOf([a]), 0n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      nodeReports.write.dismissReport([id, REASON], { account: tl }),
      nodeReports,
      "ReportNotOpen",
      [id, Status.Dismissed],
    );
    await viem.assertions.revertWithCustomErrorWithArgs(
      nodeReports.write.confirmReport([id, 0n], { account: tl }),
      nodeReports,
      "ReportNotOpen",
      [id, Status.Dismissed],
    );
  });

  it("lifts the reports' suspension once fewer than reportsToSuspend reports stay open", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, tl, k } = core;
    const [first, second] = await suspended(core);
    assert.equal(await nodeRegistry.read.isNodeServing([k]), false);
    const tx = nodeReports.write.dismissReport([first, REASON], { account: tl });
    await viem.assertions.emitWithArgs(tx, nodeRegistry, "NodeSuspensionChanged", [k, false, REASON]);
    assert.deepEqual(await nodeReports.read.nodeReportState([k]), [1n, 0n]);
    assert.equal(await nodeRegistry.read.isNodeServing([k]), true, "one open report alone does not suspend");
    const last = await nodeReports.write.dismissReport([second, REASON], { account: tl });
    assert.equal((await eventsIn(core, last, nodeRegistry, "NodeSuspensionChanged")).length, 0);
  });

  it("keeps the node suspended while reportsToSuspend reports stay open (threshold 1)", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, tl, k } = core;
    await nodeReports.write.setReportsToSuspend([1n], { account: tl });
    const [first, second] = await suspended(core);
    const tx = await nodeReports.write.dismissReport([first, REASON], { account: tl });
    assert.equal((await eventsIn(core, tx, nodeRegistry, "NodeSuspensionChanged")).length, 0);
    assert.equal(await nodeRegistry.read.isNodeServing([k]), false);
    await viem.assertions.emitWithArgs(
      nodeReports.write.dismissReport([second, REASON], { account: tl }),
      nodeRegistry,
      "NodeSuspensionChanged",
      [k, false, REASON],
    );
    assert.equal(await nodeRegistry.read.isNodeServing([k]), true);
  });

  it("leaves a suspension that governance set before the reports", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, tl, k } = core;
    await nodeRegistry.write.setNodeSuspended([k, true, GOVERNANCE], { account: tl });
    const ids = await suspended(core);
    for (const id of ids) {
      const tx = await nodeReports.write.dismissReport([id, REASON], { account: tl });
      assert.equal((await eventsIn(core, tx, nodeRegistry, "NodeSuspensionChanged")).length, 0);
    }
    assert.equal((await nodeRegistry.read.getNode([k])).suspended, true);
  });

  it("changes nothing when governance lifted the suspension before the dismissal", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, tl, k } = core;
    const [first] = await suspended(core);
    await nodeRegistry.write.setNodeSuspended([k, false, REASON], { account: tl });
    const tx = nodeReports.write.dismissReport([first, REASON], { account: tl });
    await viem.assertions.emitWithArgs(tx, nodeReports, "ReportDismissed", [first, k, REASON]);
    assert.equal((await eventsIn(core, await tx, nodeRegistry, "NodeSuspensionChanged")).length, 0);
    assert.equal(await nodeRegistry.read.isNodeServing([k]), true);
  });

  it("after a ban, the node's other reports can only be dismissed (NodeAlreadyBanned): one incident, one slash", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, bondManager, alice, tl, a, k } = core;
    await stake(core, alice, 1000n * POD);
    await bondManager.write.bond([1000n * S], { account: alice.account });
    const [first, second] = await suspended(core);
    await nodeReports.write.confirmReport([first, 500_000n], { account: tl });
    assert.deepEqual(await nodeReports.read.nodeReportState([k]), [1n, 0n]);
    assert.equal(await bondManager.read.freezesOf([a]), 1n);

    for (const ppm of [0n, 500_000n]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        nodeReports.write.confirmReport([second, ppm], { account: tl }),
        nodeReports,
        "NodeAlreadyBanned",
        [k],
      );
    }
    assert.equal(await bondManager.read.bondedShares([a]), 500n * S, "slashed once");
    assert.equal((await nodeReports.read.getReport([second])).status, Status.Open);

    const dismissed = nodeReports.write.dismissReport([second, REASON], { account: tl });
    await viem.assertions.emitWithArgs(dismissed, nodeReports, "ReportDismissed", [second, k, REASON]);
    await viem.assertions.emitWithArgs(dismissed, bondManager, "BondUnfrozen", [a, 0n]);
    assert.equal((await eventsIn(core, await dismissed, nodeRegistry, "NodeSuspensionChanged")).length, 0);
    const node = await nodeRegistry.read.getNode([k]);
    assert.deepEqual([node.status, node.suspended], [3, true], "banned, and the suspension is left as it was");
    assert.deepEqual(await nodeReports.read.nodeReportState([k]), [0n, 0n]);
  });

  it("a governance ban also leaves the node's open reports to be dismissed only", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, bondManager, tl, a, k } = core;
    const id = await fileReport(core);
    await nodeRegistry.write.banNode([k, GOVERNANCE], { account: tl });
    await viem.assertions.revertWithCustomErrorWithArgs(nodeReports.write.confirmReport([id, 0n], { account: tl }), nodeReports, "NodeAlreadyBanned", [
      k,
    ]);
    await viem.assertions.emitWithArgs(nodeReports.write.dismissReport([id, REASON], { account: tl }), bondManager, "BondUnfrozen", [a, 0n]);
  });

  it("a report filed before the node changed hands still names, freezes and slashes the account it had", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, bondManager, alice, bob, tl, a, b, k } = core;
    await stake(core, alice, 1000n * POD);
    await bondManager.write.bond([1000n * S], { account: alice.account });
    const id = await fileReport(core, core.carol);
    await nodeRegistry.write.deregisterNode([k], { account: alice.account });
    await nodeRegistry.write.registerNode([k, [MODEL_A], METADATA, await keyProof(core, NODE, b)], { account: bob.account });
    assert.deepEqual([await bondManager.read.freezesOf([a]), await bondManager.read.freezesOf([b])], [1n, 0n]);
    const tx = nodeReports.write.confirmReport([id, 100_000n], { account: tl });
    await viem.assertions.emitWithArgs(tx, nodeReports, "ReportConfirmed", [id, k, a, 100n * S, 10n * S, 90n * S, 0n]);
    await viem.assertions.emitWithArgs(tx, bondManager, "BondUnfrozen", [a, 0n]);
  });
});
