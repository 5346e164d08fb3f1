import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, zeroHash } from "viem";
import { deployCore } from "./helpers/fixture.ts";
import { EVIDENCE, NODE, REASON, deployReports, fileReport, validatorProof } from "./helpers/reports.ts";
import { nodeKey, registerNode } from "./helpers/registry.ts";
import { actAsTimelock, eventsIn, minedAt, role } from "./helpers/unit.ts";

const connection = await network.create();
const reportsFixture = () => deployReports(connection);
const bareFixture = () => deployCore(connection);
const { viem } = connection;

const Status = { None: 0, Open: 1, Confirmed: 2, Dismissed: 3 } as const;
const UNKNOWN = getAddress(nodeKey("nobody").address);
const load = () => connection.networkHelpers.loadFixture(reportsFixture);

describe("NodeReports: filing", () => {
  it("grants CONFIRMER_ROLE to both timelocks and holds its roles on the registry, bonds and pool", async () => {
    const { nodeReports, nodeRegistry, bondManager, rewardsDistributor, timelock, securityTimelock, deployer, nr } = await load();
    const confirmer = await nodeReports.read.CONFIRMER_ROLE();
    assert.equal(confirmer, role("CONFIRMER_ROLE"));
    assert.equal(await nodeReports.read.hasRole([confirmer, timelock.address]), true);
    assert.equal(await nodeReports.read.hasRole([confirmer, securityTimelock.address]), true);
    assert.equal(await nodeReports.read.hasRole([confirmer, deployer.account.address]), false);
    assert.equal(await nodeRegistry.read.hasRole([role("SUSPENDER_ROLE"), nr]), true);
    assert.equal(await nodeRegistry.read.hasRole([role("BANNER_ROLE"), nr]), true);
    assert.equal(await bondManager.read.hasRole([role("SLASHER_ROLE"), nr]), true);
    assert.equal(await bondManager.read.hasRole([role("BOND_FOR_ROLE"), nr]), true);
    assert.equal(await bondManager.read.hasRole([role("FREEZER_ROLE"), nr]), true);
    assert.equal(await rewardsDistributor.read.hasRole([role("POOL_SPENDER_ROLE"), nr]), true);
  });

  describe("reportNode", () => {
    it("files a validator's report (NodeReported) and freezes the account (BondFrozen); alone it suspends nothing", async () => {
      const core = await load();
      const { nodeReports, nodeRegistry, bondManager, bob, a, b, k, tree } = core;
      const proof = validatorProof(tree, b);
      const { result } = await nodeReports.simulate.reportNode([k, EVIDENCE, proof], { account: b });
      assert.equal(result, 1n);
      const tx = nodeReports.write.reportNode([k, EVIDENCE, proof], { account: bob.account });
      await viem.assertions.emitWithArgs(tx, nodeReports, "NodeReported", [1n, k, b, a, EVIDENCE]);
      await viem.assertions.emitWithArgs(tx, bondManager, "BondFrozen", [a, 1n]);
      assert.equal((await eventsIn(core, await tx, nodeRegistry, "NodeSuspensionChanged")).length, 0);
      assert.deepEqual(await nodeReports.read.getReport([1n]), {
        nodeKey: k,
        openedAt: await minedAt(core, await tx),
        status: Status.Open,
        account: a,
        reporter: b,
        evidenceHash: EVIDENCE,
      });
      assert.equal(await nodeReports.read.reportCount(), 1n);
      assert.deepEqual(await nodeReports.read.nodeReportState([k]), [1n, 0n]);
      assert.equal(await nodeReports.read.hasOpenReport([b, k]), true);
      assert.equal(await bondManager.read.freezesOf([a]), 1n);
      assert.equal(await nodeRegistry.read.isNodeServing([k]), true, "one validator cannot take a node out");
    });

    it("a second validator's report reaches reportsToSuspend (2): suspends the node with its evidence as reason", async () => {
      const core = await load();
      const { nodeReports, nodeRegistry, bondManager, carol, c, a, k, tree } = core;
      await fileReport(core);
      const tx = nodeReports.write.reportNode([k, REASON, validatorProof(tree, c)], { account: carol.account });
      await viem.assertions.emitWithArgs(tx, nodeReports, "NodeReported", [2n, k, c, a, REASON]);
      await viem.assertions.emitWithArgs(tx, nodeRegistry, "NodeSuspensionChanged", [k, true, REASON]);
      await viem.assertions.emitWithArgs(tx, bondManager, "BondFrozen", [a, 2n]);
      assert.deepEqual(await nodeReports.read.nodeReportState([k]), [2n, 0n]);
      assert.equal(await nodeRegistry.read.isNodeServing([k]), false);
    });

    it("reports a node that left the pool, against the account it had", async () => {
      const core = await load();
      const { nodeReports, nodeRegistry, bondManager, alice, bob, a, b, k, tree } = core;
      await nodeRegistry.write.deregisterNode([k], { account: alice.account });
      const tx = nodeReports.write.reportNode([k, EVIDENCE, validatorProof(tree, b)], { account: bob.account });
      await viem.assertions.emitWithArgs(tx, nodeReports, "NodeReported", [1n, k, b, a, EVIDENCE]);
      await viem.assertions.emitWithArgs(tx, bondManager, "BondFrozen", [a, 1n]);
      await fileReport(core, core.carol, REASON);
      assert.equal((await nodeRegistry.read.getNode([k])).suspended, true);
    });

    it("refuses non-validators, foreign proofs and the rest (NotValidator)", async () => {
      const { nodeReports, dave, bob, d, b, k, tree } = await load();
      for (const proof of [[], validatorProof(tree, b)]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          nodeReports.write.reportNode([k, EVIDENCE, proof], { account: dave.account }),
          nodeReports,
          "NotValidator",
          [d],
        );
      }
      await viem.assertions.revertWithCustomErrorWithArgs(
        nodeReports.write.reportNode([k, EVIDENCE, [zeroHash]], { account: bob.account }),
        nodeReports,
        "NotValidator",
        [b],
      );
    });

    it("refuses everyone before any epoch root is claimable (NotValidator)", async () => {
      const core = await connection.networkHelpers.loadFixture(bareFixture);
      const { nodeReports, bob, alice } = core;
      await registerNode(core, alice, NODE);
      await viem.assertions.revertWithCustomErrorWithArgs(
        nodeReports.write.reportNode([NODE.address, EVIDENCE, []], { account: bob.account }),
        nodeReports,
        "NotValidator",
        [getAddress(bob.account.address)],
      );
    });

    it("refuses a self report (SelfReport), empty evidence (EmptyEvidence), unknown and banned nodes (NodeNotReportable)", async () => {
      const core = await load();
      const { nodeReports, nodeRegistry, alice, bob, a, b, k, tree } = core;
      await viem.assertions.revertWithCustomErrorWithArgs(
        nodeReports.write.reportNode([k, EVIDENCE, validatorProof(tree, a)], { account: alice.account }),
        nodeReports,
        "SelfReport",
        [a, k],
      );
      const proof = validatorProof(tree, b);
      await viem.assertions.revertWithCustomError(
        nodeReports.write.reportNode([k, zeroHash, proof], { account: bob.account }),
        nodeReports,
        "EmptyEvidence",
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        nodeReports.write.reportNode([UNKNOWN, EVIDENCE, proof], { account: bob.account }),
        nodeReports,
        "NodeNotReportable",
        [UNKNOWN],
      );
      const tl = await actAsTimelock(connection, core);
      await nodeRegistry.write.banNode([k, REASON], { account: tl });
      await viem.assertions.revertWithCustomErrorWithArgs(
        nodeReports.write.reportNode([k, EVIDENCE, proof], { account: bob.account }),
        nodeReports,
        "NodeNotReportable",
        [k],
      );
      assert.equal(await nodeReports.read.reportCount(), 0n);
    });
  });

  describe("flagNode", () => {
    it("lets anyone flag a node (NodeFlagged); flags count and suspend nothing", async () => {
      const { nodeReports, nodeRegistry, dave, carol, d, c, k } = await load();
      await viem.assertions.emitWithArgs(nodeReports.write.flagNode([k, EVIDENCE], { account: dave.account }), nodeReports, "NodeFlagged", [
        k,
        d,
        EVIDENCE,
      ]);
      await viem.assertions.emitWithArgs(nodeReports.write.flagNode([k, REASON], { account: carol.account }), nodeReports, "NodeFlagged", [
        k,
        c,
        REASON,
      ]);
      assert.deepEqual(await nodeReports.read.nodeReportState([k]), [0n, 2n]);
      assert.equal(await nodeRegistry.read.isNodeServing([k]), true);
    });

    it("refuses an empty reason (EmptyEvidence) and unknown or banned nodes (NodeNotReportable)", async () => {
      const core = await load();
      const { nodeReports, nodeRegistry, dave, k } = core;
      await viem.assertions.revertWithCustomError(
        nodeReports.write.flagNode([k, zeroHash], { account: dave.account }),
        nodeReports,
        "EmptyEvidence",
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        nodeReports.write.flagNode([UNKNOWN, EVIDENCE], { account: dave.account }),
        nodeReports,
        "NodeNotReportable",
        [UNKNOWN],
      );
      await nodeRegistry.write.banNode([k, REASON], { account: await actAsTimelock(connection, core) });
      await viem.assertions.revertWithCustomErrorWithArgs(
        nodeReports.write.flagNode([k, EVIDENCE], { account: dave.account }),
        nodeReports,
        "NodeNotReportable",
        [k],
      );
    });
  });
});
