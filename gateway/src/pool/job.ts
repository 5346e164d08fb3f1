/**
 * One attempt of one request on one node: a queue of events the node's frames push and the
 * dispatcher pulls, settled exactly once (result or failure). Plus the pure check that a result
 * is consistent with the tokens streamed and with the node-signed receipt.
 */
import { isAddressEqual, type Address } from "viem";
import type { InferenceResult, TokenLogprobWire } from "../../../sdk/src/nodeProtocol.ts";
import { hashLogprobs, hashTokenIds, verifyReceipt, type SignedReceipt } from "../../../sdk/src/receipt.ts";
import type { ReceiptChecker } from "./receiptBatch.ts";

export type StreamedToken = TokenLogprobWire & { index: number };

/** Why an attempt ended without a result. `beforeFirstToken` decides retry versus MidStreamFailure. */
export type JobFailure = { code: string; message: string; /** the node is at fault (counts against it) */ nodeFault: boolean };

export type JobEvent = { type: "token"; token: StreamedToken } | { type: "result"; result: InferenceResult; receipt: SignedReceipt } | { type: "failed"; failure: JobFailure };

/** A single-consumer event queue that ends at the first result or failure. */
export class JobChannel {
  private readonly events: JobEvent[] = [];
  private waiter: ((event: JobEvent) => void) | undefined;
  private ended = false;

  get isEnded(): boolean {
    return this.ended;
  }

  /** Pushes an event; ignored once the job has ended (late frames never reach the caller). */
  push(event: JobEvent): void {
    if (this.ended) return;
    if (event.type !== "token") this.ended = true;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter(event);
    } else this.events.push(event);
  }

  next(): Promise<JobEvent> {
    const queued = this.events.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

export type ResultCheck = {
  jobId: string;
  model: string;
  node: Address;
  chainId: number;
  streamed: readonly StreamedToken[];
  /** The pool's verifier (node keys cached: ~1 ms instead of a ~5 ms recovery); verifyReceipt without one. */
  verifier?: ReceiptChecker;
};

/**
 * Undefined when the result is what the node streamed and what its receipt signs, else why not.
 * A result that fails this is the node's fault: the caller never sees it.
 */
export async function checkResult(result: InferenceResult, signed: SignedReceipt, expected: ResultCheck): Promise<string | undefined> {
  const expect = { expectedSigner: expected.node, chainId: expected.chainId };
  const verdict = await (expected.verifier?.verify(signed, expect) ?? verifyReceipt(signed, expect));
  if (!verdict.valid) return `invalid receipt: ${verdict.reason}`;
  const r = signed.receipt;
  if (r.requestId !== expected.jobId || result.requestId !== expected.jobId) return `receipt is for request ${r.requestId}, not ${expected.jobId}`;
  if (r.modelId !== expected.model || result.model !== expected.model) return `receipt is for model ${r.modelId}, not ${expected.model}`;
  if (!isAddressEqual(r.node, expected.node)) return `receipt names node ${r.node}`;
  const out = result.outputTokenIds;
  if (out.length !== expected.streamed.length || out.some((id, i) => expected.streamed[i]?.tokenId !== id)) return "result tokens differ from the tokens streamed";
  if (r.outputTokens !== out.length || result.usage.completionTokens !== out.length) return "output token counts disagree";
  if (r.promptTokens !== result.promptTokenIds.length || result.usage.promptTokens !== r.promptTokens) return "prompt token counts disagree";
  if (r.outputHash !== hashTokenIds(out)) return "receipt outputHash does not match the result";
  if (r.promptHash !== hashTokenIds(result.promptTokenIds)) return "receipt promptHash does not match the result";
  if (result.logprobs.length !== out.length) return "one logprob per output token expected";
  if (r.logprobsHash !== hashLogprobs(result.logprobs.map((lp) => lp.logprob))) return "receipt logprobsHash does not match the result";
  const t = result.timings;
  if (t.startedAt !== r.startedAt || t.firstTokenMs !== r.firstTokenMs || t.totalMs !== r.totalMs) return "result timings differ from the receipt";
  return undefined;
}
