/**
 * The money side of one request: the reservation made before dispatch is either committed at
 * the actual cost (and the receipt stored) or released, exactly once. The receipt is stored
 * before the caller finishes its response, so nothing is served that is not on record.
 */
import type { Address } from "viem";
import type { ParsedApiKey } from "../../../sdk/src/apiKey.ts";
import type { CreditGuard, Quote, Reservation, TokenUsage } from "../credit/index.ts";
import type { DispatchEvent } from "../pool/index.ts";
import type { CompletionReceipt, ReceiptStore, RecentResponses, SampledRequest, ValidatorSample } from "../store/index.ts";
import { usageOf, type Usage } from "./shapes.ts";

export type ApiLogger = (level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;

export type BillingDeps = {
  credit: Pick<CreditGuard, "commit" | "release">;
  store: Pick<ReceiptStore, "insert">;
  /** The settlement epoch a completion at `unixMs` belongs to. */
  epochAt: (unixMs: number) => number;
  /** The operator account a connected node key serves for (partial receipts have no result to say). */
  accountOf: (node: Address) => Address | undefined;
  now: () => number;
  log: ApiLogger;
  /** Told of every charge (for metrics). */
  onCharged?: (model: string, usage: TokenUsage) => void;
  /** Keeps the pairs of unsampled completions a while, so a flag can still hand them to validators. */
  recent?: Pick<RecentResponses, "add">;
};

type ResultEvent = Extract<DispatchEvent, { type: "result" }>;

export class RequestBilling {
  readonly #deps: BillingDeps;
  readonly #key: ParsedApiKey;
  readonly #grantId: `0x${string}`;
  readonly #quote: Quote;
  readonly #reservation: Reservation;
  readonly #requestId: string;
  readonly #receivedAt: number;
  /** The request as forwarded, built on demand: at once when sampled, else only if flagged. */
  readonly #request: (() => SampledRequest) | undefined;
  /** Whether validators get to see this request (keyed sampling, decided before dispatch). */
  readonly #sampled: boolean;
  #firstTokenAt: number | undefined;
  #closed = false;

  constructor(deps: BillingDeps, request: { key: ParsedApiKey; grantId: `0x${string}`; quote: Quote; reservation: Reservation; requestId: string; receivedAt: number; sampled?: boolean; request?: () => SampledRequest }) {
    this.#deps = deps;
    this.#key = request.key;
    this.#grantId = request.grantId;
    this.#quote = request.quote;
    this.#reservation = request.reservation;
    this.#requestId = request.requestId;
    this.#receivedAt = request.receivedAt;
    this.#request = request.request;
    this.#sampled = request.sampled === true && request.request !== undefined;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Call when the first token is handed to the client. */
  tokenSent(): void {
    this.#firstTokenAt ??= this.#deps.now();
  }

  /** Charges a completed request at the node-signed counts and stores its receipt. */
  async complete(done: ResultEvent): Promise<Usage> {
    const { promptTokens, outputTokens } = done.receipt.receipt;
    const requestId = this.#requestId;
    const request = this.#request;
    const sample = this.#sampled && request !== undefined ? validatorSample(requestId, request(), done) : undefined;
    const inserted = await this.#charge({ promptTokens, completionTokens: outputTokens }, { node: done.node, account: done.account, status: "complete", signedReceipt: done.receipt }, sample);
    // Locals only in the closure: the buffer keeps the node's result and the request, not this object.
    if (inserted && sample === undefined && request !== undefined) this.#deps.recent?.add(requestId, () => validatorSample(requestId, request(), done));
    return usageOf(promptTokens, outputTokens);
  }

  /**
   * A stream that broke after `delivered` tokens (node failure, client gone): only those are
   * charged, on a partial receipt. The prompt is not charged: no node signed its count.
   * With nothing delivered the reservation is released and nothing is stored.
   */
  async partial(node: Address | undefined, delivered: number): Promise<void> {
    if (delivered === 0 || node === undefined) return this.release();
    const account = this.#deps.accountOf(node) ?? node;
    await this.#charge({ promptTokens: 0, completionTokens: delivered }, { node, account, status: "partial", signedReceipt: null });
  }

  /** Frees the reservation without charging (a no-op once settled). */
  release(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deps.credit.release(this.#reservation);
  }

  /** Returns whether a receipt was stored (false when already settled). */
  async #charge(usage: TokenUsage, served: { node: Address; account: Address; status: CompletionReceipt["status"]; signedReceipt: CompletionReceipt["signedReceipt"] }, sample?: ValidatorSample): Promise<boolean> {
    if (this.#closed) return false;
    this.#closed = true;
    let charged = this.#quote.cost(usage);
    if (charged > this.#reservation.amount) {
      // The prompt bound was too low (a tokenizer denser than one token per byte): never charge past what was reserved.
      this.#deps.log("warn", "actual cost exceeds the reservation; charging the reservation", { requestId: this.#requestId, charged: String(charged), reserved: String(this.#reservation.amount) });
      charged = this.#reservation.amount;
    }
    this.#deps.credit.commit(this.#reservation, charged);
    this.#deps.onCharged?.(this.#quote.model, usage);
    const now = this.#deps.now();
    const { grant } = this.#key;
    const { inserted } = await this.#deps.store.insert({
      requestId: this.#requestId,
      epoch: this.#deps.epochAt(now),
      model: this.#quote.model,
      nodeAddress: served.node,
      nodeAccount: served.account,
      grantId: this.#grantId,
      account: grant.account,
      asset: grant.asset,
      // In the grant's asset (the quote converts POD prices; a million tokens rounds up once).
      inputPricePerMTok: this.#quote.cost({ promptTokens: 1_000_000, completionTokens: 0 }),
      outputPricePerMTok: this.#quote.cost({ promptTokens: 0, completionTokens: 1_000_000 }),
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      charged,
      status: served.status,
      timings: { receivedAt: this.#receivedAt, firstTokenMs: this.#firstTokenAt === undefined ? null : this.#firstTokenAt - this.#receivedAt, totalMs: now - this.#receivedAt },
      signedReceipt: served.signedReceipt,
    }, sample);
    return inserted;
  }
}

/** What a validator needs to re-run the request: the request with the node's seed, and the exact output. */
function validatorSample(requestId: string, request: SampledRequest, done: ResultEvent): ValidatorSample {
  const { result } = done;
  return {
    requestId,
    request: { ...request, params: { ...request.params, seed: result.seed } },
    responseText: result.text,
    promptTokenIds: result.promptTokenIds,
    outputTokenIds: result.outputTokenIds,
    logprobs: { chosen: result.logprobs.map((lp) => lp.logprob), top: result.logprobs.map((lp) => lp.top.map((t) => ({ tokenId: t.tokenId, logprob: t.logprob }))) },
  };
}
