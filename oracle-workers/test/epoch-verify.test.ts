import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { verifyReceipt } from "../../sdk/src/receipt.ts";
import { mutatedReceipts, receiptCases } from "../../sdk/test/receiptCases.ts";
import { verifyReceiptSignatures } from "../src/epoch/verify.ts";

describe("epoch receipt signatures", () => {
  it("verifyReceiptSignatures gives verifyReceipt's verdict on valid, tampered and malformed receipts, inline and in workers", async () => {
    const list = await receiptCases();
    const expected = await Promise.all(list.map(({ signed }) => verifyReceipt(signed).then((check) => check.valid)));
    const inline = await verifyReceiptSignatures(list.map((c) => c.signed), { workers: 1 });
    const pooled = await verifyReceiptSignatures(list.map((c) => c.signed), { workers: 2, minPerWorker: 1 });
    list.forEach(({ name }, i) => {
      assert.equal(inline[i], expected[i], `inline: ${name}`);
      assert.equal(pooled[i], expected[i], `workers: ${name}`);
    });
  });

  it("agrees with verifyReceipt on random one-character mutations", async () => {
    const batch = await mutatedReceipts(150);
    const expected = await Promise.all(batch.map((signed) => verifyReceipt(signed).then((c) => c.valid)));
    assert.deepEqual(await verifyReceiptSignatures(batch, { workers: 1 }), expected);
  });
});
