import assert from "node:assert/strict";
import { network } from "hardhat";
import { encodeFunctionData, getAddress, keccak256, toHex, zeroHash } from "viem";
import { DAY, paramName, POD, SHARES_PER_POD } from "./helpers/fixture.ts";
import {
  deployReports,
  EVIDENCE,
  fileReport,
  NODE,
  POOL_FUNDING,
  PPM,
  REASON,
  validatorProof,
  type ReportsCore,
} from "./helpers/reports.ts";
import { nodeKey, registerNode } from "./helpers/registry.ts";
import { actAsTimelock, role, stake } from "./helpers/unit.ts";

const connection = await network.create();
const reportsFixture = () => deployReports(connection);
const { viem } = connection;

const S = SHARES_PER_POD;
const Status = { None: 0, Open: 1, Confirmed: 2, Dismissed: 3 } as const;
const NodeStatus = { Banned: 3 } as const;
const MAX_SLASH = 500_000n;
const REPORTER_SHARE = 100_000n;
const POOL_REWARD = 1_000n * POD;

/** Reports loaded; the test acts as the governance timelock (CONFIRMER_ROLE). */
async function reports() {
  const core = await connection.networkHelpers.loadFixture(reportsFixture);
  return { ...core, tl: await actAsTimelock(connection, core) };
}

/** Alice stakes 1000 POD, bonds all of it and asks to unbond `pending` shares. */
async function aliceBonds(core: ReportsCore, pending: bigint) {
  await stake(core, core.alice, 1000n * POD);
  await core.bondManager.write.bond([1000n * S], { account: core.alice.account });
  if (pending > 0n) await core.bondManager.write.requestUnbond([pending], { account: core.alice.account });
}

describe("NodeReports: confirmation", () => {
  it("refuses callers without CONFIRMER_ROLE (AccessControlUnauthorizedAccount)", async () => {
    const core = await reports();
    const { nodeReports, alice, bob, deployer } = core;
    const id = await fileReport(core);
    for (const caller of [alice, bob, deployer]) {
      const who = getAddress(caller.account.address);
      const calls = [
        () => nodeReports.write.confirmReport([id, MAX_SLASH], { account: caller.account }),
        () => nodeReports.write.dismissReport([id, REASON], { account: caller.account }),
      ];
      for (const call of calls) {
        await viem.assertions.revertWithCustomErrorWithArgs(call(), nodeReports, "AccessControlUnauthorizedAccount", [
          who,
          role("CONFIRMER_ROLE"),
        ]);
      }
    }
  });

  it("refuses unknown and closed reports (ReportNotOpen) and a slash above the live cap (SlashAboveCap)", async () => {
    const core = await reports();
    const { nodeReports, protocolParams, tl } = core;
    const closed = [
      () => nodeReports.write.confirmReport([1n, 0n], { account: tl }),
      () => nodeReports.write.dismissReport([1n, REASON], { account: tl }),
    ];
    for (const call of closed) {
      await viem.assertions.revertWithCustomErrorWithArgs(call(), nodeReports, "ReportNotOpen", [1n, Status.None]);
    }
    const first = await fileReport(core);
    assert.equal(await protocolParams.read.getParameter([paramName("maxSlashPpm")]), MAX_SLASH);
    await viem.assertions.revertWithCustomErrorWithArgs(
      nodeReports.write.confirmReport([first, MAX_SLASH + 1n], { account: tl }),
      nodeReports,
      "SlashAboveCap",
      [MAX_SLASH + 1n, MAX_SLASH],
    );
    await protocolParams.write.setParameter([paramName("maxSlashPpm"), 100_000n], { account: tl });
    await viem.assertions.revertWithCustomErrorWithArgs(
      nodeReports.write.confirmReport([first, 100_001n], { account: tl }),
      nodeReports,
      "SlashAboveCap",
      [100_001n, 100_000n],
    );
    await nodeReports.write.confirmReport([first, 100_000n], { account: tl });
    await viem.assertions.revertWithCustomErrorWithArgs(
      nodeReports.write.confirmReport([first, 0n], { account: tl }),
      nodeReports,
      "ReportNotOpen",
      [first, Status.Confirmed],
    );
    await viem.assertions.revertWithCustomErrorWithArgs(
      nodeReports.write.reportNode([core.k, EVIDENCE, validatorProof(core.tree, core.c)], { account: core.carol.account }),
      nodeReports,
      "NodeNotReportable",
      [core.k],
    );
  });

  it("slashes active then pending bond, bonds the reporter's share and sends the rest to the buyback; bans the node", async () => {
    const core = await reports();
    const { nodeReports, bondManager, stakedPod, nodeRegistry, buyback, alice, bob, tl, a, b, k, nr } = core;
    await aliceBonds(core, 800n * S); // active 200, pending 800
    const id = await fileReport(core);
    const tx = nodeReports.write.confirmReport([id, MAX_SLASH], { account: tl });
    // 50% of 1000 = 500: 200 from active, 300 from pending; 10% of it to the reporter.
    await viem.assertions.emitWithArgs(tx, nodeReports, "ReportConfirmed", [id, k, a, 500n * S, 50n * S, 450n * S, 0n]);
    await viem.assertions.emitWithArgs(tx, bondManager, "Slashed", [a, nr, 200n * S, 300n * S, EVIDENCE]);
    await viem.assertions.emitWithArgs(tx, bondManager, "Bonded", [b, nr, 50n * S, 50n * S]);
    await viem.assertions.emitWithArgs(tx, stakedPod, "Transfer", [nr, getAddress(buyback.address), 450n * S]);
    await viem.assertions.emitWithArgs(tx, nodeRegistry, "NodeBanned", [k, a, EVIDENCE]);
    await viem.assertions.emitWithArgs(tx, bondManager, "BondUnfrozen", [a, 0n]);

    assert.equal(await bondManager.read.activeShares([a]), 0n);
    assert.equal((await bondManager.read.pendingUnbond([a]))[0], 500n * S);
    assert.equal(await bondManager.read.bondedShares([b]), 50n * S);
    assert.equal(await stakedPod.read.balanceOf([buyback.address]), 450n * S);
    assert.equal(await stakedPod.read.balanceOf([nr]), 0n, "reports keep nothing");
    assert.equal((await nodeReports.read.getReport([id])).status, Status.Confirmed);
    assert.deepEqual(await nodeReports.read.nodeReportState([k]), [0n, 0n]);
    assert.equal((await nodeRegistry.read.getNode([k])).status, NodeStatus.Banned);
    for (const owner of [alice, bob]) {
      await viem.assertions.revertWithCustomErrorWithArgs(registerNode(core, owner, NODE), nodeRegistry, "NodeIsBanned", [k]);
    }
    // The buyback cools the slashed sPOD down on its way to the burn.
    await buyback.write.burnSlashedStake();
    assert.equal((await stakedPod.read.cooldownOf([buyback.address])).shares, 450n * S);
  });

  it("rounds every share down exactly: slashed <= slashPpm of the bond, reporter + burn == slashed", async () => {
    const core = await reports();
    const { nodeReports, bondManager, alice, tl, a, k } = core;
    await stake(core, alice, 1000n * POD);
    await bondManager.write.bond([1000n * S - 1n], { account: alice.account });
    await bondManager.write.requestUnbond([7n], { account: alice.account });
    const bonded = await bondManager.read.bondedShares([a]);
    assert.notEqual((bonded * 333_333n) % PPM, 0n, "the slash must round");
    const ppm = 333_333n;
    const slashed = (bonded * ppm) / PPM;
    const reporter = (slashed * REPORTER_SHARE) / PPM;
    const id = await fileReport(core);
    await viem.assertions.emitWithArgs(nodeReports.write.confirmReport([id, ppm], { account: tl }), nodeReports, "ReportConfirmed", [
      id,
      k,
      a,
      slashed,
      reporter,
      slashed - reporter,
      0n,
    ]);
    assert.equal(await bondManager.read.bondedShares([a]), bonded - slashed);
    assert.equal((await bondManager.read.pendingUnbond([a]))[0], 7n, "the active bond covered it");
  });

  it("pays the reporter of an unbonded account from the pool, bonded (ReporterPaidFromPool)", async () => {
    const core = await reports();
    const { nodeReports, rewardsDistributor, bondManager, stakedPod, podToken, tl, a, b, k } = core;
    const id = await fileReport(core);
    const shares = await stakedPod.read.previewDeposit([POOL_REWARD]);
    const tx = nodeReports.write.confirmReport([id, MAX_SLASH], { account: tl });
    await viem.assertions.emitWithArgs(tx, nodeReports, "ReportConfirmed", [id, k, a, 0n, 0n, 0n, POOL_REWARD]);
    await viem.assertions.emitWithArgs(tx, rewardsDistributor, "ReporterPaidFromPool", [b, POOL_REWARD]);
    assert.equal(await bondManager.read.bondedShares([b]), shares);
    assert.equal(await podToken.read.balanceOf([rewardsDistributor.address]), POOL_FUNDING - POOL_REWARD);
  });

  it("reports what the pool could pay when the reward exceeds its surplus, and nothing when the reward is zero", async () => {
    const core = await reports();
    const { nodeReports, protocolParams, carol, tl, a, k } = core;
    await protocolParams.write.setParameter([paramName("unbondedReporterReward"), POOL_FUNDING * 2n], { account: tl });
    const first = await fileReport(core);
    await viem.assertions.emitWithArgs(
      nodeReports.write.confirmReport([first, MAX_SLASH], { account: tl }),
      nodeReports,
      "ReportConfirmed",
      [first, k, a, 0n, 0n, 0n, POOL_FUNDING],
    );
    const other = nodeKey("second");
    await registerNode(core, core.alice, other);
    await protocolParams.write.setParameter([paramName("unbondedReporterReward"), 0n], { account: tl });
    const second = await fileReport({ ...core, k: getAddress(other.address) }, carol);
    await viem.assertions.emitWithArgs(
      nodeReports.write.confirmReport([second, MAX_SLASH], { account: tl }),
      nodeReports,
      "ReportConfirmed",
      [second, getAddress(other.address), a, 0n, 0n, 0n, 0n],
    );
  });

  it("a confirmation slashing 0 ppm bans without taking anything or paying from the pool", async () => {
    const core = await reports();
    const { nodeReports, nodeRegistry, bondManager, tl, a, k } = core;
    await aliceBonds(core, 0n);
    const id = await fileReport(core);
    const tx = nodeReports.write.confirmReport([id, 0n], { account: tl });
    await viem.assertions.emitWithArgs(tx, nodeReports, "ReportConfirmed", [id, k, a, 0n, 0n, 0n, 0n]);
    await viem.assertions.emitWithArgs(tx, nodeRegistry, "NodeBanned", [k, a, EVIDENCE]);
    assert.equal(await bondManager.read.bondedShares([a]), 1000n * S);
  });

  it("confirms through the security timelock after its delay, and through the governance timelock", async () => {
    const core = await reports();
    const { nodeReports, securityTimelock, deployer, dave, tl, a, k } = core;
    await aliceBonds(core, 0n);
    const id = await fileReport(core);
    const data = encodeFunctionData({ abi: nodeReports.abi, functionName: "confirmReport", args: [id, 100_000n] });
    const salt = keccak256(toHex("confirm report 1"));
    const op = [nodeReports.address, 0n, data, zeroHash, salt] as const;
    await securityTimelock.write.schedule([...op, DAY], { account: deployer.account });
    await viem.assertions.revertWithCustomError(
      securityTimelock.write.execute(op, { account: dave.account }),
      securityTimelock,
      "TimelockUnexpectedOperationState",
    );
    await connection.networkHelpers.time.increase(DAY);
    await viem.assertions.emitWithArgs(securityTimelock.write.execute(op, { account: dave.account }), nodeReports, "ReportConfirmed", [
      id,
      k,
      a,
      100n * S,
      10n * S,
      90n * S,
      0n,
    ]);

    // The governance timelock confirms directly (impersonated here): a report on alice's other node.
    const other = nodeKey("second");
    await registerNode(core, core.alice, other);
    const second = await fileReport({ ...core, k: getAddress(other.address) });
    await viem.assertions.emitWithArgs(
      nodeReports.write.confirmReport([second, 100_000n], { account: tl }),
      nodeReports,
      "ReportConfirmed",
      [second, getAddress(other.address), a, 90n * S, 9n * S, 81n * S, 0n],
    );
  });
});
