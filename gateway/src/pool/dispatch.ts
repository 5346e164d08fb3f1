/**
 * One request through the pool: choose a node, stream its tokens, verify its result, and retry
 * on another node only while no token has reached the caller. The result is yielded at most once;
 * a caller that stops reading (or aborts) gets its job cancelled on the node.
 */
import { randomUUID } from "node:crypto";
import type { Address } from "viem";
import type { InferenceResult } from "../../../sdk/src/nodeProtocol.ts";
import type { SignedReceipt } from "../../../sdk/src/receipt.ts";
import { AllAttemptsFailed, DispatchAborted, JobRejected, MidStreamFailure, NoNodeForModel, type AttemptFailure } from "./errors.ts";
import { checkResult, type StreamedToken } from "./job.ts";
import type { PoolCounters } from "./metrics.ts";
import type { ReceiptChecker } from "./receiptBatch.ts";
import { chooseNode, decodeSpeed } from "./routing.ts";
import { REQUEST_FAULT_CODES, type NodeSession } from "./session.ts";

export type DispatchOptions = {
  /** Only nodes whose account has an active bond. */
  bondedOnly?: boolean;
  /** Aborting cancels the job on the node; the stream then throws DispatchAborted. */
  signal?: AbortSignal;
  /** The id the node signs into the receipt (random when absent). */
  requestId?: string;
};

export type DispatchEvent =
  | { type: "token"; token: StreamedToken; node: Address }
  | { type: "result"; result: InferenceResult; receipt: SignedReceipt; node: Address; account: Address; bonded: boolean; attempts: number };

export type DispatchContext = {
  /** Sessions that serve `model` now (any state; the router filters). */
  sessionsFor(model: string): NodeSession[];
  maxAttempts: number;
  chainId: number;
  /** Checks each result's receipt; long-lived, it keeps the nodes' keys. */
  verifier: ReceiptChecker;
  counters: PoolCounters;
  now: () => number;
};

export async function* dispatchRequest(ctx: DispatchContext, model: string, request: unknown, options: DispatchOptions = {}): AsyncGenerator<DispatchEvent, void, undefined> {
  const { signal } = options;
  const bondedOnly = options.bondedOnly ?? false;
  const jobId = options.requestId ?? randomUUID();
  const counters = ctx.counters;
  counters.requests++;
  counters.requestsInFlight++;
  try {
    if (signal?.aborted === true) throw new DispatchAborted();
    const failures: AttemptFailure[] = [];
    const tried = new Set<Address>();
    while (failures.length < ctx.maxAttempts) {
      const now = ctx.now();
      const pick = chooseNode(ctx.sessionsFor(model).map((s) => s.candidate(now)), { bondedOnly, exclude: tried });
      if (pick === undefined) {
        if (failures.length === 0) throw new NoNodeForModel(model, bondedOnly);
        break;
      }
      const session = pick.session;
      tried.add(session.node);
      if (failures.length > 0) counters.retries++;
      counters.attempts++;
      const failure = yield* attempt(ctx, session, jobId, model, request, signal, failures.length + 1);
      if (failure === undefined) {
        counters.succeeded++;
        return;
      }
      failures.push(failure);
    }
    throw new AllAttemptsFailed(model, failures);
  } catch (error) {
    if (error instanceof NoNodeForModel) counters.noNode++;
    else if (error instanceof AllAttemptsFailed) counters.allAttemptsFailed++;
    else if (error instanceof MidStreamFailure) counters.midStreamFailures++;
    else if (error instanceof JobRejected) counters.rejected++;
    else if (error instanceof DispatchAborted) counters.aborted++;
    throw error;
  } finally {
    counters.requestsInFlight--;
  }
}

/**
 * Runs the job on one node. Returns undefined after yielding the verified result, or the failure
 * when the node failed before any token (the caller may retry); throws when retrying is wrong.
 */
async function* attempt(
  ctx: DispatchContext,
  session: NodeSession,
  jobId: string,
  model: string,
  request: unknown,
  signal: AbortSignal | undefined,
  attempts: number,
): AsyncGenerator<DispatchEvent, AttemptFailure | undefined, undefined> {
  const node = session.node;
  const channel = session.startJob(jobId, request);
  const onAbort = () => session.cancelJob(jobId);
  signal?.addEventListener("abort", onAbort, { once: true });
  const delivered: StreamedToken[] = [];
  const nodeFailed = (code: string, message: string): AttemptFailure => {
    session.recordFailure();
    ctx.counters.nodeFailures++;
    if (delivered.length > 0) throw new MidStreamFailure(node, code, message, delivered);
    return { node, code, message };
  };
  try {
    for (;;) {
      const event = await channel.next();
      if (event.type === "token") {
        delivered.push(event.token);
        ctx.counters.tokens++;
        yield { type: "token", token: event.token, node };
        continue;
      }
      if (event.type === "failed") {
        const { code, message, nodeFault } = event.failure;
        if (signal?.aborted === true) throw new DispatchAborted();
        if (REQUEST_FAULT_CODES.has(code)) throw new JobRejected(code, message);
        if (nodeFault) return nodeFailed(code, message);
        if (delivered.length > 0) throw new MidStreamFailure(node, code, message, delivered);
        return { node, code, message };
      }
      const problem = await checkResult(event.result, event.receipt, { jobId, model, node, chainId: ctx.chainId, streamed: delivered, verifier: ctx.verifier });
      if (problem !== undefined) {
        ctx.counters.invalidResults++;
        return nodeFailed("invalid_result", problem);
      }
      const { outputTokens, firstTokenMs, totalMs } = event.receipt.receipt;
      const speed = decodeSpeed(outputTokens, firstTokenMs, totalMs);
      if (speed !== undefined) session.recordSpeed(speed);
      yield { type: "result", result: event.result, receipt: event.receipt, node, account: session.account, bonded: session.bonded, attempts };
      return undefined;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    // Still running when the caller stopped reading: stop it on the node (a no-op once ended).
    session.cancelJob(jobId);
  }
}
