import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Hex } from "viem";
import type { EpochReceipt } from "../../sdk/src/epochData.ts";
import { screenReceipts } from "../src/epoch/screen.ts";
import type { Invalidation } from "../src/epoch/types.ts";
import { chainState, nodeKey, operator, shuffled, signedRecord } from "./epoch-fixture.ts";

const [good, other, invalidatedKey, unknownKey, movedKey, inactiveKey, bannedKey] = [0, 1, 2, 3, 4, 5, 6].map(nodeKey) as [
  ReturnType<typeof nodeKey>, ReturnType<typeof nodeKey>, ReturnType<typeof nodeKey>, ReturnType<typeof nodeKey>,
  ReturnType<typeof nodeKey>, ReturnType<typeof nodeKey>, ReturnType<typeof nodeKey>,
];
const A = operator(1);
const B = operator(2);

const chain = chainState({
  epoch: 3,
  nodes: [
    { key: good.address, account: A },
    { key: other.address, account: B },
    { key: invalidatedKey.address, account: A },
    { key: movedKey.address, account: B },
    { key: inactiveKey.address, account: A, active: false },
    { key: bannedKey.address, account: A, active: false, banned: true },
  ],
});
const invalidations: Invalidation[] = [
  { node: invalidatedKey.address, epoch: 3, evidenceHash: `0x${"ee".repeat(32)}` as Hex, reason: "logprobs differ" },
  { node: good.address, epoch: 2, evidenceHash: `0x${"dd".repeat(32)}` as Hex, reason: "another epoch: no effect" },
];

async function everyReason(): Promise<{ expected: string; record: EpochReceipt }[]> {
  const r = (requestId: string, extra: Partial<Parameters<typeof signedRecord>[0]> = {}) =>
    signedRecord({ key: good, account: A, requestId, epoch: 3, ...extra });
  const valid = await r("a-valid", { promptTokens: 100, completionTokens: 40, signedPromptTokens: 90, signedOutputTokens: 60 });
  const tamperedBase = await r("c-tampered");
  const tampered: EpochReceipt = {
    ...tamperedBase,
    signedReceipt: { ...tamperedBase.signedReceipt!, receipt: { ...tamperedBase.signedReceipt!.receipt, outputTokens: 5_000 } },
  };
  const mismatchBase = await r("e-mismatch");
  return [
    { expected: "accepted", record: valid },
    { expected: "unsigned", record: { ...(await r("b-unsigned")), signedReceipt: null } },
    { expected: "bad_signature", record: tampered },
    { expected: "bad_signature", record: await signedRecord({ key: other, account: A, requestId: "c-other-signer", epoch: 3 }).then((x) => ({ ...x, nodeAddress: good.address, signedReceipt: { ...x.signedReceipt!, receipt: { ...x.signedReceipt!.receipt, node: good.address } } })) },
    { expected: "wrong_chain", record: await r("d-wrong-chain", { chainId: 1 }) },
    { expected: "wrong_epoch", record: await r("d-wrong-epoch", { epoch: 2 }) },
    { expected: "mismatch", record: { ...mismatchBase, model: "another-model" } },
    { expected: "mismatch", record: { ...(await r("e-mismatch-2")), requestId: "e-mismatch-3" } },
    { expected: "duplicate", record: valid },
    { expected: "invalidated", record: await signedRecord({ key: invalidatedKey, account: A, requestId: "f", epoch: 3 }) },
    { expected: "node_not_registered", record: await signedRecord({ key: unknownKey, account: A, requestId: "g-unknown", epoch: 3 }) },
    { expected: "node_not_registered", record: await signedRecord({ key: movedKey, account: A, requestId: "g-other-account", epoch: 3 }) },
    { expected: "node_not_registered", record: await signedRecord({ key: inactiveKey, account: A, requestId: "g-inactive", epoch: 3 }) },
    { expected: "node_banned", record: await signedRecord({ key: bannedKey, account: A, requestId: "h", epoch: 3 }) },
    { expected: "unknown_model", record: await r("i-unknown-model", { model: "not-enabled" }) },
  ];
}

describe("screenReceipts", () => {
  it("drops each kind of bad receipt with its reason and pays min(signed, recorded) tokens", async () => {
    const cases = await everyReason();
    const { accepted, dropped } = await screenReceipts(cases.map((c) => c.record), { chain, invalidations });
    assert.equal(accepted.length, 1);
    assert.deepEqual(accepted[0], { node: good.address, account: A, requestId: "a-valid", model: "pod-gpt2-tiny", paidTokens: 90 + 40, workWeightPpm: 1_000_000 });
    const got = dropped.map((d) => `${d.requestId} ${d.reason}`).sort();
    const want = cases
      .filter((c) => c.expected !== "accepted")
      .map((c) => `${c.record.requestId} ${c.expected}`)
      .sort();
    assert.deepEqual(got, want);
    const reasons = new Set(dropped.map((d) => d.reason));
    assert.equal(reasons.size, 10, "all ten drop reasons are exercised");
  });

  it("a receipt whose outputTokens changed after signing is bad_signature", async () => {
    const record = await signedRecord({ key: good, account: A, requestId: "t", epoch: 3 });
    const signed = record.signedReceipt!;
    const tampered = { ...record, signedReceipt: { ...signed, receipt: { ...signed.receipt, outputTokens: signed.receipt.outputTokens + 1 } } };
    const result = await screenReceipts([tampered, { ...record, requestId: "u", signedReceipt: null }], { chain, invalidations: [] });
    assert.deepEqual(result.dropped.map((d) => d.reason), ["bad_signature", "unsigned"]);
  });

  it("gives the same verdicts whatever the order, keeping the same one of two duplicates", async () => {
    const cases = await everyReason();
    // Two different valid receipts for one (node, request id): the canonical order picks one.
    const first = await signedRecord({ key: other, account: B, requestId: "dup", epoch: 3, completionTokens: 10 });
    const second = await signedRecord({ key: other, account: B, requestId: "dup", epoch: 3, completionTokens: 70 });
    const records = [...cases.map((c) => c.record), first, second];
    const reference = await screenReceipts(records, { chain, invalidations });
    for (const seed of [1, 2, 3, 4]) {
      const result = await screenReceipts(shuffled(records, seed), { chain, invalidations });
      assert.deepEqual(result, reference, `seed ${seed}`);
    }
    const kept = reference.accepted.filter((a) => a.requestId === "dup");
    assert.equal(kept.length, 1);
    assert.equal(reference.dropped.filter((d) => d.requestId === "dup" && d.reason === "duplicate").length, 1);
  });

  it("checks signatures in worker threads with the same verdicts", async () => {
    const records = (await everyReason()).map((c) => c.record);
    const inline = await screenReceipts(records, { chain, invalidations, verify: { workers: 1 } });
    const pooled = await screenReceipts(records, { chain, invalidations, verify: { workers: 2, minPerWorker: 1 } });
    assert.deepEqual(pooled, inline);
  });
});
