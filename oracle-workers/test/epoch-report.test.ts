import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Address } from "viem";
import { computeEpoch } from "../src/epoch/compute.ts";
import { describeReportDiff, diffReports, parseEpochReport, serializeEpochReport } from "../../sdk/src/epochReport.ts";
import { initialOracleState } from "../src/epoch/state.ts";
import { InputError } from "../../sdk/src/jsonInput.ts";
import { CONTRACTS, chainState, nodeKey, operator, signedRecord } from "./epoch-fixture.ts";

const [A, B] = [operator(1), operator(2)] as [Address, Address];
const [k0, k1] = [nodeKey(0), nodeKey(1)];
const nodes = [{ key: k0.address, account: A }, { key: k1.address, account: B }];

async function computed(bondOfB = 0n) {
  const chain = chainState({ nodes, accounts: { [B]: { bond: bondOfB } } });
  const receipts = [
    await signedRecord({ key: k0, account: A, requestId: "r1", promptTokens: 10 }),
    await signedRecord({ key: k1, account: B, requestId: "r2", promptTokens: 30 }),
    { ...(await signedRecord({ key: k1, account: B, requestId: "r3" })), signedReceipt: null },
  ];
  return computeEpoch({ chain, contracts: CONTRACTS, receipts, invalidations: [], previous: initialOracleState() });
}

describe("epoch report", () => {
  it("is canonical JSON that parses back to the same bytes", async () => {
    const { reportJson } = await computed();
    assert.doesNotMatch(reportJson, /\s/, "no whitespace");
    const report = parseEpochReport(reportJson);
    assert.equal(serializeEpochReport(report), reportJson);
    assert.deepEqual(Object.keys(JSON.parse(reportJson)), [
      "version", "chainId", "epoch", "closesAt", "closingBlock", "contracts", "previousRoot", "inputsDigest", "inputDigests",
      "params", "receipts", "accounts", "total", "root", "validatorsRoot", "validators", "leaves",
    ]);
    assert.equal(report.receipts.accepted, 2);
    assert.equal(report.receipts.dropped.unsigned, 1);
    assert.deepEqual(report.receipts.droppedReceipts, [{ node: k1.address, requestId: "r3", reason: "unsigned" }]);
    assert.equal(report.receipts.droppedReceiptsOmitted, 0);
    assert.deepEqual(report.leaves.map((l) => l.account), [A, B]);
  });

  it("rejects a malformed report, naming the field", async () => {
    const { reportJson } = await computed();
    const raw = JSON.parse(reportJson);
    const lowerAccount = structuredClone(raw);
    lowerAccount.accounts[0].account = lowerAccount.accounts[0].account.toLowerCase();
    assert.throws(() => parseEpochReport(JSON.stringify(lowerAccount)), (e: unknown) => e instanceof InputError && e.field === "report.accounts[0].account");
    const negative = structuredClone(raw);
    negative.total = "-1";
    assert.throws(() => parseEpochReport(JSON.stringify(negative)), (e: unknown) => e instanceof InputError && e.field === "report.total");
    const missing = structuredClone(raw);
    delete missing.validatorsRoot;
    assert.throws(() => parseEpochReport(JSON.stringify(missing)), (e: unknown) => e instanceof InputError && e.field === "report");
    assert.throws(() => parseEpochReport("{"), InputError);
  });

  it("diffReports names the differing fields and account", async () => {
    const a = parseEpochReport((await computed()).reportJson);
    const b = parseEpochReport((await computed(5n)).reportJson);
    assert.deepEqual(diffReports(a, a), { fields: [], accounts: [] });
    const diff = diffReports(a, b);
    assert.deepEqual(diff.accounts, [B]);
    assert.deepEqual(diff.fields, ["inputsDigest", "inputDigests", "accounts"]);
    assert.match(describeReportDiff(diff), new RegExp(B));
  });
});
