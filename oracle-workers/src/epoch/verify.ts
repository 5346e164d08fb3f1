/**
 * Signature verdicts for a batch of signed receipts, equal to the SDK's verifyReceipt for each
 * (valid ⇔ signed by receipt.node with a canonical signature): the fast check of sdk/src/receiptCheck/signatures.ts,
 * spread over worker threads for large batches, and verifyReceipt itself for odd inputs.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { verifyReceipt, type SignedReceipt } from "../../../sdk/src/receipt.ts";
import { checkReceiptSignatures, SIGNATURE_FALLBACK, SIGNATURE_VALID } from "../../../sdk/src/receiptCheck/signatures.ts";

export type VerifyOptions = {
  /** Worker threads to use; default: the machine's parallelism (1 or less: none, all inline). */
  workers?: number;
  /** Below this many receipts everything runs inline (a worker costs ~100 ms to start). */
  minPerWorker?: number;
};

const DEFAULT_MIN_PER_WORKER = 2_000;

function runWorker(batch: readonly SignedReceipt[]): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./signatureWorker.ts", import.meta.url));
    worker.once("message", (statuses: Uint8Array) => {
      resolve(statuses);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`signature worker exited with code ${code}`));
    });
    worker.postMessage(batch);
  });
}

/**
 * One boolean per receipt, in order. Callers sort the batch by node first: each worker gets a
 * contiguous slice, so it recovers each node key once.
 */
export async function verifyReceiptSignatures(batch: readonly SignedReceipt[], options: VerifyOptions = {}): Promise<boolean[]> {
  const minPerWorker = options.minPerWorker ?? DEFAULT_MIN_PER_WORKER;
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), Math.floor(batch.length / minPerWorker)));
  let statuses: Uint8Array;
  if (workers <= 1) {
    statuses = checkReceiptSignatures(batch);
  } else {
    const size = Math.ceil(batch.length / workers);
    const slices = Array.from({ length: workers }, (_, i) => batch.slice(i * size, (i + 1) * size));
    const parts = await Promise.all(slices.map(runWorker));
    statuses = new Uint8Array(batch.length);
    parts.forEach((part, i) => statuses.set(part, i * size));
  }
  const verdicts = new Array<boolean>(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const status = statuses[i];
    verdicts[i] = status === SIGNATURE_FALLBACK ? (await verifyReceipt(batch[i]!)).valid : status === SIGNATURE_VALID;
  }
  return verdicts;
}
