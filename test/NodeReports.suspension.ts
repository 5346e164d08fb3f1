import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, zeroHash } from "viem";
import { deployReports, EVIDENCE, fileReport, REASON, validatorProof, type ReportsCore } from "./helpers/reports.ts";
import { actAsTimelock, eventsIn } from "./helpers/unit.ts";

const connection = await network.create();
const reportsFixture = () => deployReports(connection);
const { viem } = connection;

/** Reports loaded; the test acts as the governance timelock (admin and confirmer of the reports). */
async function reports() {
  const core = await connection.networkHelpers.loadFixture(reportsFixture);
  return { ...core, tl: await actAsTimelock(connection, core) };
}

/** The node's suspension flag and whether it serves. */
async function suspension(core: ReportsCore) {
  const node = await core.nodeRegistry.read.getNode([core.k]);
  return [node.suspended, await core.nodeRegistry.read.isNodeServing([core.k])];
}

describe("NodeReports: one report per validator, suspension by several", () => {
  describe("reportNode dedup", () => {
    it("refuses a validator's second open report on a node (DuplicateReport) and counts nothing", async () => {
      const core = await reports();
      const { nodeReports, bondManager, bob, a, b, k, tree } = core;
      await fileReport(core);
      for (const evidence of [EVIDENCE, REASON]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          nodeReports.write.reportNode([k, evidence, validatorProof(tree, b)], { account: bob.account }),
          nodeReports,
          "DuplicateReport",
          [b, k],
        );
      }
      assert.equal(await nodeReports.read.reportCount(), 1n);
      assert.deepEqual(await nodeReports.read.nodeReportState([k]), [1n, 0n]);
      assert.equal(await bondManager.read.freezesOf([a]), 1n);
      assert.deepEqual(await suspension(core), [false, true], "repeating a report suspends nothing");
    });

    it("lets the validator report the node again once its report is dismissed", async () => {
      const core = await reports();
      const { nodeReports, bob, b, k, tree, tl } = core;
      const first = await fileReport(core);
      await nodeReports.write.dismissReport([first, REASON], { account: tl });
      assert.equal(await nodeReports.read.hasOpenReport([b, k]), false);
      await viem.assertions.emitWithArgs(
        nodeReports.write.reportNode([k, EVIDENCE, validatorProof(tree, b)], { account: bob.account }),
        nodeReports,
        "NodeReported",
        [2n, k, b, core.a, EVIDENCE],
      );
      assert.equal(await nodeReports.read.hasOpenReport([b, k]), true);
      assert.equal(await nodeReports.read.hasOpenReport([core.c, k]), false);
    });
  });

  describe("reportsToSuspend", () => {
    it("starts at PodNetwork's default of 2, bounded by MAX_REPORTS_TO_SUSPEND = 100", async () => {
      const { nodeReports } = await reports();
      assert.equal(await nodeReports.read.reportsToSuspend(), 2n);
      assert.equal(await nodeReports.read.MAX_REPORTS_TO_SUSPEND(), 100n);
    });

    it("governance sets it (ReportsToSuspendChanged); at 1 a single report suspends", async () => {
      const core = await reports();
      const { nodeReports, nodeRegistry, tl, k } = core;
      await viem.assertions.emitWithArgs(nodeReports.write.setReportsToSuspend([1n], { account: tl }), nodeReports, "ReportsToSuspendChanged", [
        2n,
        1n,
      ]);
      assert.equal(await nodeReports.read.reportsToSuspend(), 1n);
      const proof = validatorProof(core.tree, core.b);
      await viem.assertions.emitWithArgs(
        nodeReports.write.reportNode([k, EVIDENCE, proof], { account: core.bob.account }),
        nodeRegistry,
        "NodeSuspensionChanged",
        [k, true, EVIDENCE],
      );
      await viem.assertions.emitWithArgs(
        nodeReports.write.setReportsToSuspend([100n], { account: tl }),
        nodeReports,
        "ReportsToSuspendChanged",
        [1n, 100n],
      );
    });

    it("at 3, two validators' reports leave the node serving", async () => {
      const core = await reports();
      const { nodeReports, nodeRegistry, tl } = core;
      await nodeReports.write.setReportsToSuspend([3n], { account: tl });
      await fileReport(core);
      const tx = await nodeReports.write.reportNode([core.k, REASON, validatorProof(core.tree, core.c)], { account: core.carol.account });
      assert.equal((await eventsIn(core, tx, nodeRegistry, "NodeSuspensionChanged")).length, 0);
      assert.deepEqual(await suspension(core), [false, true]);
    });

    it("refuses 0 and more than 100 (InvalidReportsToSuspend)", async () => {
      const { nodeReports, tl } = await reports();
      for (const n of [0n, 101n, 2n ** 256n - 1n]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          nodeReports.write.setReportsToSuspend([n], { account: tl }),
          nodeReports,
          "InvalidReportsToSuspend",
          [n],
        );
      }
      assert.equal(await nodeReports.read.reportsToSuspend(), 2n);
    });

    it("refuses everyone but governance, the security timelock included (AccessControlUnauthorizedAccount)", async () => {
      const core = await reports();
      const { nodeReports, securityTimelock, alice, deployer } = core;
      const security = getAddress(securityTimelock.address);
      await connection.networkHelpers.impersonateAccount(security);
      await connection.networkHelpers.setBalance(security, 10n ** 20n);
      const callers = [
        { who: security, opts: { account: security } },
        ...[alice, deployer].map((w) => ({ who: getAddress(w.account.address), opts: { account: w.account } })),
      ];
      for (const { who, opts } of callers) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          nodeReports.write.setReportsToSuspend([1n], opts),
          nodeReports,
          "AccessControlUnauthorizedAccount",
          [who, zeroHash],
        );
      }
    });

    it("the constructor refuses an out-of-range threshold (InvalidReportsToSuspend)", async () => {
      const core = await reports();
      const { nodeReports } = core;
      const args = [
        await nodeReports.read.registry(),
        await nodeReports.read.bondManager(),
        await nodeReports.read.distributor(),
        await nodeReports.read.stakedPod(),
        await nodeReports.read.params(),
        await nodeReports.read.buyback(),
      ] as const;
      for (const n of [0n, 101n]) {
        await assert.rejects(viem.deployContract("NodeReports", [...args, n, core.tl]), new RegExp(`InvalidReportsToSuspend\\(${n}\\)`));
      }
    });
  });
});
