/**
 * Continuous batching. One loop owns the model: it admits waiting requests with a batched,
 * left-padded prefill, then runs decode steps in which every active request adds one token in
 * the same forward pass. Requests join and leave between steps, so a long request never holds
 * back a short one and throughput grows with concurrency.
 */
import { TextDecoder } from "node:util";
import { CancelledError, DrainingError } from "../errors.ts";
import { log } from "../log.ts";
import { Xoshiro128 } from "../model/rng.ts";
import type { Tokenizer } from "../model/tokenizer.ts";
import type { Decoder } from "../runtime/decoder.ts";
import { type KvCache, type RowSource, assembleCache } from "../runtime/kvCache.ts";
import type { GenerationParams } from "./request.ts";
import { argmax, logSumExp, selectToken, tokenLogprobs, type TokenAlternative } from "../../../sdk/src/sampling.ts";
import { findStop, heldBackLength } from "./stop.ts";

export type FinishReason = "stop" | "length";

export type TokenEvent = { index: number; tokenId: number; text: string; logprob: number; top: TokenAlternative[] };

export type EngineJob = {
  promptIds: number[];
  params: GenerationParams & { seed: number };
  onToken?: ((event: TokenEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
};

export type EngineResult = {
  outputIds: number[];
  text: string;
  finishReason: FinishReason;
  logprobs: { tokenId: number; logprob: number; top: TokenAlternative[] }[];
  /** Unix ms. */
  startedAt: number;
  firstTokenAt: number;
  finishedAt: number;
};

export type EngineConfig = {
  /** Rows decoded together at most. */
  maxBatch: number;
  /** Padded prompt tokens per prefill pass at most (bounds the [B, S, V] logits). */
  maxPrefillTokens: number;
  contextLength: number;
  eosTokenId: number;
};

type Sequence = {
  job: EngineJob;
  rng: Xoshiro128;
  resolve: (r: EngineResult) => void;
  reject: (e: Error) => void;
  outputIds: number[];
  logprobs: EngineResult["logprobs"];
  /** Tokens of this row already in the KV cache. */
  cached: number;
  /** Last sampled token, fed at the next decode step. */
  next: number;
  textDecoder: TextDecoder;
  text: string;
  emitted: number;
  maxStopLength: number;
  finish: FinishReason | undefined;
  startedAt: number;
  firstTokenAt: number;
};

export class Engine {
  private readonly decoder: Decoder;
  private readonly tokenizer: Tokenizer;
  private readonly config: EngineConfig;
  private pending: Sequence[] = [];
  private active: Sequence[] = [];
  private cache: KvCache | undefined;
  private running = false;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  /** Output tokens produced, for speed reports. */
  tokensGenerated = 0;

  constructor(decoder: Decoder, tokenizer: Tokenizer, config: EngineConfig) {
    this.decoder = decoder;
    this.tokenizer = tokenizer;
    this.config = config;
  }

  get counters() {
    return this.decoder.counters;
  }

  get load(): { active: number; queued: number } {
    return { active: this.active.length, queued: this.pending.length };
  }

  generate(job: EngineJob): Promise<EngineResult> {
    if (this.draining) return Promise.reject(new DrainingError());
    return new Promise<EngineResult>((resolve, reject) => {
      this.pending.push({
        job,
        rng: new Xoshiro128(job.params.seed),
        resolve,
        reject,
        outputIds: [],
        logprobs: [],
        cached: 0,
        next: -1,
        textDecoder: new TextDecoder("utf-8"),
        text: "",
        emitted: 0,
        maxStopLength: job.params.stop.reduce((m, s) => Math.max(m, s.length), 0),
        finish: undefined,
        startedAt: 0,
        firstTokenAt: 0,
      });
      if (!this.running) {
        this.running = true;
        // Start on the next turn so requests submitted together share the first prefill.
        setImmediate(() => void this.loop());
      }
    });
  }

  /** Refuses new work and resolves once every admitted request has finished. */
  async drain(): Promise<void> {
    this.draining = true;
    if (!this.running) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async loop(): Promise<void> {
    try {
      while (this.pending.length > 0 || this.active.length > 0) {
        const admitted = this.takeAdmissible();
        if (admitted.length > 0) await this.prefill(admitted);
        if (this.active.length > 0) await this.decodeStep();
      }
    } catch (error) {
      // A runtime failure fails every request in flight; the node stays up for the next ones.
      log("error", "inference loop failed", { error: String(error) });
      for (const s of [...this.active, ...this.pending]) s.reject(error instanceof Error ? error : new Error(String(error)));
      this.active = [];
      this.pending = [];
      this.cache = undefined;
    } finally {
      this.running = false;
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Waiting requests that fit: batch room and a bound on padded prefill tokens. */
  private takeAdmissible(): Sequence[] {
    this.pending = this.pending.filter((s) => {
      if (!s.job.signal?.aborted) return true;
      s.reject(new CancelledError());
      return false;
    });
    const room = this.config.maxBatch - this.active.length;
    const taken: Sequence[] = [];
    let longest = 0;
    while (taken.length < room && this.pending.length > 0) {
      const candidate = this.pending[0]!;
      const width = Math.max(longest, candidate.job.promptIds.length);
      if (taken.length > 0 && width * (taken.length + 1) > this.config.maxPrefillTokens) break;
      taken.push(this.pending.shift()!);
      longest = width;
    }
    return taken;
  }

  private async prefill(admitted: Sequence[]): Promise<void> {
    const startedAt = Date.now();
    for (const s of admitted) s.startedAt = startedAt;
    const out = await this.decoder.prefill(admitted.map((s) => s.job.promptIds));
    const V = this.decoder.vocabSize;
    const width = out.sequenceLength;
    admitted.forEach((s, row) => {
      s.cached = s.job.promptIds.length;
      this.consumeLogits(s, out.logits, (row * width + width - 1) * V);
    });
    const rows: RowSource[] = [];
    if (this.cache !== undefined) this.active.forEach((s, row) => rows.push({ source: this.cache!, row, realLength: s.cached }));
    const joining = admitted.filter((s, row) => {
      if (s.finish !== undefined) return false;
      rows.push({ source: out.present, row, realLength: s.cached });
      return true;
    });
    if (joining.length > 0) {
      this.active.push(...joining);
      this.cache = assembleCache(this.decoder.shape, rows);
    }
  }

  private async decodeStep(): Promise<void> {
    const out = await this.decoder.decodeStep(
      this.active.map((s) => s.next),
      this.active.map((s) => s.cached),
      this.cache!,
    );
    const V = this.decoder.vocabSize;
    this.active.forEach((s, row) => {
      s.cached++;
      this.consumeLogits(s, out.logits, row * V);
    });
    const staying = this.active.filter((s) => s.finish === undefined);
    if (staying.length === this.active.length) {
      this.cache = out.present;
      return;
    }
    const rows = this.active.flatMap((s, row) => (s.finish === undefined ? [{ source: out.present, row, realLength: s.cached }] : []));
    this.active = staying;
    this.cache = staying.length > 0 ? assembleCache(this.decoder.shape, rows) : undefined;
  }

  /** Samples one token for `s` from its logits row, streams it, and decides whether it ends. */
  private consumeLogits(s: Sequence, logits: Float32Array, offset: number): void {
    const V = this.decoder.vocabSize;
    if (s.job.signal?.aborted) {
      s.finish = "stop";
      s.reject(new CancelledError());
      return;
    }
    const { params } = s.job;
    // One argmax pass serves greedy selection and the log-sum-exp's max.
    const best = argmax(logits, offset, V);
    const tokenId = selectToken(logits, offset, V, params, s.rng, best);
    const { logprob, top } = tokenLogprobs(logits, offset, V, tokenId, params.topLogprobs, logSumExp(logits, offset, V, logits[offset + best]!));
    if (s.outputIds.length === 0) s.firstTokenAt = Date.now();
    s.outputIds.push(tokenId);
    s.logprobs.push({ tokenId, logprob, top });
    s.next = tokenId;
    this.tokensGenerated++;

    if (tokenId === this.config.eosTokenId) {
      s.finish = "stop";
      s.text += s.textDecoder.decode();
    } else {
      s.text += s.textDecoder.decode(this.tokenizer.tokenBytes(tokenId), { stream: true });
      const stopAt = s.maxStopLength > 0 ? findStop(s.text, params.stop, s.emitted - s.maxStopLength) : -1;
      if (stopAt >= 0) {
        s.text = s.text.slice(0, stopAt);
        s.finish = "stop";
      } else if (s.outputIds.length >= params.maxTokens || s.job.promptIds.length + s.outputIds.length >= this.config.contextLength) {
        s.finish = "length";
        s.text += s.textDecoder.decode();
      }
    }
    const safeEnd = s.finish !== undefined ? s.text.length : s.text.length - heldBackLength(s.text, params.stop);
    const delta = safeEnd > s.emitted ? s.text.slice(s.emitted, safeEnd) : "";
    s.emitted = Math.max(s.emitted, safeEnd);
    try {
      s.job.onToken?.({ index: s.outputIds.length - 1, tokenId, text: delta, logprob, top });
    } catch (error) {
      log("warn", "token listener threw", { error: String(error) });
    }
    if (s.finish !== undefined) {
      s.resolve({
        outputIds: s.outputIds,
        text: s.text,
        finishReason: s.finish,
        logprobs: s.logprobs,
        startedAt: s.startedAt,
        firstTokenAt: s.firstTokenAt,
        finishedAt: Date.now(),
      });
    }
  }
}
