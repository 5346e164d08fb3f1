/**
 * Worker thread entry for verifyReceiptSignatures: checks one batch and posts the statuses back.
 * Loads no viem (slow to import); see sdk/src/receiptCheck/signatures.ts.
 */
import { parentPort } from "node:worker_threads";
import type { SignedReceipt } from "../../../sdk/src/receipt.ts";
import { checkReceiptSignatures } from "../../../sdk/src/receiptCheck/signatures.ts";

parentPort?.once("message", (batch: SignedReceipt[]) => {
  const statuses = checkReceiptSignatures(batch);
  parentPort?.postMessage(statuses, [statuses.buffer as ArrayBuffer]);
});
