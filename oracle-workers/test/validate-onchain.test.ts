/**
 * A validator's report on the in-process Hardhat network: alice runs the node, alice, bob and
 * carol are validators through the claimable epoch 0's root, dave is not. Bob convicts the node
 * from its samples, writes the evidence, reports it with that hash (once), the timelock confirms
 * and the node is banned and its account slashed.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { getAddress, parseEventLogs, type Hex } from "viem";
import { nodeRegistryAbi, nodeReportsAbi } from "../../sdk/src/abi/contracts.ts";
import { POD, SHARES_PER_POD } from "../../test/helpers/fixture.ts";
import { deployReports, type ReportsCore } from "../../test/helpers/reports.ts";
import { actAsTimelock, stake } from "../../test/helpers/unit.ts";
import { ContractRevertError } from "../src/chain/errors.ts";
import { validatorsRoot } from "../src/epoch/validators.ts";
import { readInvalidationsDir } from "../src/sources/invalidations.ts";
import { DEFAULT_DECIDE_PARAMS, decide } from "../src/validate/decide.ts";
import { buildEvidence, readEvidence, writeEvidence } from "../src/validate/evidence.ts";
import { invalidationsFor, storeInvalidations } from "../src/validate/invalidations.ts";
import { NotInValidatorSet, reportNode, validatorProof } from "../src/validate/onchain.ts";
import { nodeStatus, ValidatorMetrics } from "../src/validate/status.ts";
import { DEFAULT_WEIGHTING, emptyRecord, failingEpochs, recordSample } from "../src/validate/strikes.ts";
import type { SampleVerdict } from "../src/validate/types.ts";

const S = SHARES_PER_POD;
const BANNED = 3; // INodeRegistry.NodeStatus.Banned
const SLASH_PPM = 500_000n;

describe("validate: reporting a convicted node on-chain", () => {
  let connection: NetworkConnection;
  let core: ReportsCore;
  let dir: string;

  before(async () => {
    connection = await network.create();
    core = await deployReports(connection);
    // Alice bonds 1000 POD behind her node.
    await stake(core, core.alice, 1000n * POD);
    await core.bondManager.write.bond([1000n * S], { account: core.alice.account });
    dir = await mkdtemp(join(tmpdir(), "pod-validator-"));
  });
  after(async () => {
    await connection.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Samples of alice's node whose logprobs fail with severity 1 (fabricated output), every one. */
  const failing = (i: number): SampleVerdict => ({
    requestId: `req-${i}`,
    epoch: i,
    node: core.k,
    account: core.a,
    model: "gpt2-pod-small",
    flagged: i === 0,
    results: [
      { check: "logprobs", pass: false, severity: 1, measured: 9.5, threshold: 0.05, detail: "mean |Δ logprob| 9.5 nats" },
      { check: "usage", pass: true, severity: 0, measured: 0, threshold: 0, detail: "" },
    ],
    pass: false,
    recomputation: { chosen: [-0.1, -Infinity] },
  });

  async function convict() {
    let record = emptyRecord(core.k, core.a);
    const verdicts = [failing(0), failing(1)];
    for (const v of verdicts) record = recordSample(record, v);
    const decision = decide(record);
    assert.equal(decision.convict, true, decision.reason);
    const pairs = verdicts.map((v) => ({ requestId: v.requestId, model: v.model, promptTokenIds: [10, 11], outputTokenIds: [12, 13], responseText: "made up" }));
    const bundle = buildEvidence({
      node: core.k,
      account: core.a,
      validator: core.b,
      failures: record.failures,
      pairs,
      decision,
      params: DEFAULT_DECIDE_PARAMS,
      maxWeight: DEFAULT_WEIGHTING.maxWeight,
      currentEpoch: 2,
    });
    const { hash } = await writeEvidence(dir, bundle);
    return { record, decision, bundle, hash };
  }

  test("the proof is of the oracle's validatorsRoot, whatever the order of the set; outsiders have none", () => {
    const set = [core.c, core.a, core.b];
    assert.equal(validatorsRoot(set), core.tree.root);
    for (const v of set) assert.deepEqual(validatorProof(v, set), core.tree.proof(v));
    assert.throws(() => validatorProof(core.d, set), NotInValidatorSet);
  });

  test("a validator reports the node with the evidence hash once; a non-validator gets NotValidator; the timelock's confirmation slashes and bans", async () => {
    const { record, decision, bundle, hash } = await convict();
    assert.deepEqual(bundle.epochs, [0, 1, 2]);
    assert.equal((await readEvidence(join(dir, "evidence", `${hash}.json`))).node, core.k);

    // A non-validator (dave, using a proof that is not his) is refused with the decoded error.
    const stolenProof = validatorProof(core.b, [core.a, core.b, core.c]);
    await assert.rejects(reportNode(core.dave, core.publicClient, core.nr, core.k, hash, stolenProof), (error: unknown) => {
      assert.ok(error instanceof ContractRevertError);
      assert.equal(error.operation, "NodeReports.reportNode");
      assert.deepEqual(error.error, { name: "NotValidator", args: [core.d] });
      return true;
    });

    const metrics = new ValidatorMetrics();
    const proof = validatorProof(core.b, [core.a, core.b, core.c]);
    const first = await reportNode(core.bob, core.publicClient, core.nr, core.k, hash, proof);
    assert.equal(first.alreadyReported, false);
    assert.equal(first.reportId, 1n);
    metrics.report("sent");
    if (first.alreadyReported) throw new Error("unreachable");
    const receipt = await core.publicClient.getTransactionReceipt({ hash: first.txHash });
    const [reported] = parseEventLogs({ abi: nodeReportsAbi, eventName: "NodeReported", logs: receipt.logs });
    assert.deepEqual(reported?.args, { reportId: 1n, nodeKey: core.k, reporter: core.b, account: core.a, evidenceHash: hash });

    // Again: no second transaction, the same report id.
    const blockBefore = await core.publicClient.getBlockNumber();
    const second = await reportNode(core.bob, core.publicClient, core.nr, core.k, hash, proof);
    assert.deepEqual(second, { alreadyReported: true, reportId: 1n });
    metrics.report("already_open");
    assert.equal(await core.publicClient.getBlockNumber(), blockBefore);
    assert.equal(await core.nodeReports.read.reportCount(), 1n);
    // A stale read (the first report landed after it): the DuplicateReport revert ends the same way.
    const stale = {
      ...core.publicClient,
      readContract: ((args: { functionName: string }) =>
        args.functionName === "hasOpenReport" ? Promise.resolve(false) : core.publicClient.readContract(args as never)) as typeof core.publicClient.readContract,
    };
    assert.deepEqual(await reportNode(core.bob, stale, core.nr, core.k, hash, proof), { alreadyReported: true, reportId: 1n });
    // The node's own account may not report it, even as a validator.
    const aliceProof = validatorProof(core.a, [core.a, core.b, core.c]);
    await assert.rejects(reportNode(core.alice, core.publicClient, core.nr, core.k, hash, aliceProof), (error: unknown) => {
      assert.ok(error instanceof ContractRevertError);
      assert.deepEqual(error.error, { name: "SelfReport", args: [core.a, core.k] });
      return true;
    });

    // The node's receipts of the affected epochs are invalidated for the oracle.
    await storeInvalidations(dir, invalidationsFor(core.k, bundle.epochs, hash, decision.reason));
    for (const epoch of [0, 1, 2]) {
      assert.deepEqual(await readInvalidationsDir(join(dir, "invalidations"), epoch), [{ node: core.k, epoch, evidenceHash: hash, reason: decision.reason }]);
    }
    assert.deepEqual(failingEpochs(record), [0, 1]);

    // Confirmation through the timelock: the bond is slashed by the event's amount, the node banned.
    const tl = await actAsTimelock(connection, core);
    const bondBefore = await core.bondManager.read.bondedShares([core.a]);
    const confirmTx = await core.nodeReports.write.confirmReport([first.reportId, SLASH_PPM], { account: tl });
    const confirmed = await core.publicClient.waitForTransactionReceipt({ hash: confirmTx });
    const [confirmation] = parseEventLogs({ abi: nodeReportsAbi, eventName: "ReportConfirmed", logs: confirmed.logs });
    const [banned] = parseEventLogs({ abi: nodeRegistryAbi, eventName: "NodeBanned", logs: confirmed.logs });
    assert.ok(confirmation && banned);
    assert.equal(confirmation.args.slashedShares, (bondBefore * SLASH_PPM) / 1_000_000n);
    assert.equal(await core.bondManager.read.bondedShares([core.a]), bondBefore - confirmation.args.slashedShares);
    assert.equal(bondBefore - confirmation.args.slashedShares, 500n * S);
    assert.deepEqual(banned.args, { nodeKey: core.k, account: core.a, reason: hash as Hex });
    assert.equal((await core.nodeRegistry.read.getNode([core.k])).status, BANNED);

    // The status a validator shows for it, and its counters.
    const status = nodeStatus(record, decision, { reportId: first.reportId, evidenceHash: hash });
    assert.deepEqual([status.samples, status.passes, status.strikes, status.convicted, status.reportId], [2, 0, 6, true, "1"]);
    assert.equal(JSON.parse(JSON.stringify(status)).node, getAddress(core.k));
    const text = await metrics.text();
    assert.match(text, /validator_reports_total\{outcome="sent"\} 1/);
    assert.match(text, /validator_reports_total\{outcome="already_open"\} 1/);
  });
});
