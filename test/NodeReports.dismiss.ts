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

describe("NodeReports: dismissal and reports left open", () => {
  it("dismisses the only open report (ReportDismissed) and lifts the suspension it put on the node", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, tl, k } = core;
    const id = await fileReport(core);
    const tx = nodeReports.write.dismissReport([id, REASON], { account: tl });
    await viem.assertions.emitWithArgs(tx, nodeReports, "ReportDismissed", [id, k, REASON]);
    await viem.assertions.emitWithArgs(tx, nodeRegistry, "NodeSuspensionChanged", [k, false, REASON]);
    assert.equal((await nodeReports.read.getReport([id])).status, Status.Dismissed);
    assert.deepEqual(await nodeReports.read.nodeReportState([k]), [0n, 0n]);
    assert.equal(await nodeRegistry.read.isNodeServing([k]), true);
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

  it("keeps the node suspended while another report is open", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, tl, k } = core;
    const first = await fileReport(core);
    const second = await fileReport(core, core.carol, REASON);
    const tx = await nodeReports.write.dismissReport([first, REASON], { account: tl });
    assert.equal((await eventsIn(core, tx, nodeRegistry, "NodeSuspensionChanged")).length, 0);
    assert.deepEqual(await nodeReports.read.nodeReportState([k]), [1n, 0n]);
    assert.equal(await nodeRegistry.read.isNodeServing([k]), false);
    await viem.assertions.emitWithArgs(
      nodeReports.write.dismissReport([second, REASON], { account: tl }),
      nodeRegistry,
      "NodeSuspensionChanged",
      [k, false, REASON],
    );
    assert.equal(await nodeRegistry.read.isNodeServing([k]), true);
  });

  it("leaves a suspension that governance set before the report", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, tl, k } = core;
    await nodeRegistry.write.setNodeSuspended([k, true, GOVERNANCE], { account: tl });
    const id = await fileReport(core);
    const tx = await nodeReports.write.dismissReport([id, REASON], { account: tl });
    assert.equal((await eventsIn(core, tx, nodeRegistry, "NodeSuspensionChanged")).length, 0);
    assert.equal((await nodeRegistry.read.getNode([k])).suspended, true);
  });

  it("changes nothing when governance lifted the suspension before the dismissal", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, tl, k } = core;
    const id = await fileReport(core);
    await nodeRegistry.write.setNodeSuspended([k, false, REASON], { account: tl });
    const tx = nodeReports.write.dismissReport([id, REASON], { account: tl });
    await viem.assertions.emitWithArgs(tx, nodeReports, "ReportDismissed", [id, k, REASON]);
    assert.equal((await eventsIn(core, await tx, nodeRegistry, "NodeSuspensionChanged")).length, 0);
    assert.equal(await nodeRegistry.read.isNodeServing([k]), true);
  });

  it("after a ban, the node's other reports stay open: a second confirmation slashes again without a second ban", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, bondManager, alice, tl, a, k } = core;
    await stake(core, alice, 1000n * POD);
    await bondManager.write.bond([1000n * S], { account: alice.account });
    const first = await fileReport(core);
    const second = await fileReport(core, core.carol, REASON);
    const third = await fileReport(core, core.bob, REASON);
    await nodeReports.write.confirmReport([first, 500_000n], { account: tl });
    assert.deepEqual(await nodeReports.read.nodeReportState([k]), [2n, 0n]);
    assert.equal((await nodeReports.read.getReport([second])).status, Status.Open);

    const again = nodeReports.write.confirmReport([second, 500_000n], { account: tl });
    await viem.assertions.emitWithArgs(again, nodeReports, "ReportConfirmed", [second, k, a, 250n * S, 25n * S, 225n * S, 0n]);
    assert.equal((await eventsIn(core, await again, nodeRegistry, "NodeBanned")).length, 0);

    const dismissed = nodeReports.write.dismissReport([third, REASON], { account: tl });
    await viem.assertions.emitWithArgs(dismissed, nodeReports, "ReportDismissed", [third, k, REASON]);
    assert.equal((await eventsIn(core, await dismissed, nodeRegistry, "NodeSuspensionChanged")).length, 0);
    const node = await nodeRegistry.read.getNode([k]);
    assert.deepEqual([node.status, node.suspended], [3, true], "banned, and the suspension is left as it was");
    assert.deepEqual(await nodeReports.read.nodeReportState([k]), [0n, 0n]);
  });

  it("a report filed before the node changed hands still names, and slashes, the account it had", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, bondManager, alice, bob, tl, a, k } = core;
    await stake(core, alice, 1000n * POD);
    await bondManager.write.bond([1000n * S], { account: alice.account });
    const id = await fileReport(core, core.carol);
    await nodeRegistry.write.deregisterNode([k], { account: alice.account });
    await nodeRegistry.write.registerNode([k, [MODEL_A], METADATA, await keyProof(core, NODE, core.b)], { account: bob.account });
    assert.equal((await nodeRegistry.read.getNode([k])).suspended, true, "the suspension moved with the key");
    await viem.assertions.emitWithArgs(nodeReports.write.confirmReport([id, 100_000n], { account: tl }), nodeReports, "ReportConfirmed", [
      id,
      k,
      a,
      100n * S,
      10n * S,
      90n * S,
      0n,
    ]);
  });
});
