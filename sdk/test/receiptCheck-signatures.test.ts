import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hashTypedData, toHex } from "viem";
import { RECEIPT_TYPES, receiptDomain, verifyReceipt, type SignedReceipt } from "../src/receipt.ts";
import { receiptDigest } from "../src/receiptCheck/digest.ts";
import { checkReceiptSignatures, SIGNATURE_FALLBACK, SIGNATURE_VALID } from "../src/receiptCheck/signatures.ts";
import { mutatedReceipts, receiptCases } from "./receiptCases.ts";

/** The fast statuses with each FALLBACK replaced by verifyReceipt's verdict, as the callers do. */
async function fastVerdicts(batch: readonly SignedReceipt[], options: { bigBaseTableFrom?: number } = {}): Promise<boolean[]> {
  const statuses = checkReceiptSignatures(batch, options);
  return Promise.all(batch.map(async (signed, i) => (statuses[i] === SIGNATURE_FALLBACK ? (await verifyReceipt(signed)).valid : statuses[i] === SIGNATURE_VALID)));
}

describe("receipt signature fast check", () => {
  it("receiptDigest equals viem's hashTypedData", async () => {
    for (const chainId of [1, 31337, 2 ** 40]) {
      for (const { signed } of (await receiptCases()).slice(0, 8)) {
        const expected = hashTypedData({ domain: receiptDomain(chainId), types: RECEIPT_TYPES, primaryType: "InferenceReceipt", message: { ...signed.receipt, startedAt: BigInt(signed.receipt.startedAt) } });
        assert.equal(toHex(receiptDigest(signed.receipt, chainId)), expected);
      }
    }
  });

  it("gives verifyReceipt's verdict on valid, tampered and malformed receipts", async () => {
    const list = await receiptCases();
    const expected = await Promise.all(list.map(({ signed }) => verifyReceipt(signed).then((check) => check.valid)));
    assert.ok(expected.filter(Boolean).length >= 18, "the valid ones verify");
    const fast = await fastVerdicts(list.map((c) => c.signed));
    list.forEach(({ name }, i) => assert.equal(fast[i], expected[i], name));
    for (const name of ["tampered outputTokens", "node of another key", "other chain id", "flipped v", "high s twin", "r zero"]) {
      assert.equal(fast[list.findIndex((c) => c.name === name)], false, name);
    }
  });

  it("agrees with verifyReceipt on random one-character mutations of signatures and fields", async () => {
    const batch = await mutatedReceipts(150);
    const expected = await Promise.all(batch.map((signed) => verifyReceipt(signed).then((c) => c.valid)));
    assert.deepEqual(await fastVerdicts(batch), expected);
    // The same with the large-batch table for G (12-bit windows).
    assert.deepEqual(await fastVerdicts(batch, { bigBaseTableFrom: 1 }), expected);
    assert.ok(expected.some(Boolean) && expected.some((v) => !v));
  });
});
