/**
 * The node's inference service: the models it serves, request preparation (tokenize, chat,
 * limits), the engines, and a signed receipt on every result. The local endpoint and the
 * gateway client are thin adapters over `run`.
 */
import { randomBytes } from "node:crypto";
import type { LocalAccount } from "viem";
import type { InferenceResult, TokenLogprobWire } from "../../sdk/src/nodeProtocol.ts";
import { hashLogprobs, hashTokenIds, signReceipt, type SignedReceipt } from "../../sdk/src/receipt.ts";
import { formatChat } from "./engine/chat.ts";
import { Engine, type EngineJob, type TokenEvent } from "./engine/engine.ts";
import { parseInferenceRequest } from "./engine/request.ts";
import { ContextLengthError, DrainingError, InvalidRequestError, ModelNotFoundError } from "./errors.ts";
import type { LoadedModel } from "./model/load.ts";

export type ServiceConfig = { maxBatch: number; maxPrefillTokens: number; chainId: number };

export type StreamedToken = TokenLogprobWire & { index: number };

export type RunOptions = { requestId?: string; onToken?: (token: StreamedToken) => void; signal?: AbortSignal };

export type RunOutput = { result: InferenceResult; receipt: SignedReceipt };

type Served = { model: LoadedModel; engine: Engine };

export type PreparedJob = { served: Served; requestId: string; promptIds: number[]; params: EngineJob["params"] };

export class NodeService {
  readonly account: LocalAccount;
  readonly config: ServiceConfig;
  private readonly served = new Map<string, Served>();
  private draining = false;
  private inFlight = 0;
  private readonly running = new Set<Promise<void>>();
  readonly startedAt = Date.now();

  constructor(account: LocalAccount, models: readonly LoadedModel[], config: ServiceConfig) {
    this.account = account;
    this.config = config;
    for (const model of models) {
      const engine = new Engine(model.decoder, model.tokenizer, {
        maxBatch: config.maxBatch,
        maxPrefillTokens: config.maxPrefillTokens,
        contextLength: model.manifest.contextLength,
        eosTokenId: model.manifest.eosTokenId,
      });
      this.served.set(model.manifest.modelId, { model, engine });
    }
  }

  get models(): LoadedModel[] {
    return [...this.served.values()].map((s) => s.model);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Requests running or queued, over every model. */
  get load(): { active: number; queued: number; inFlight: number } {
    let active = 0;
    let queued = 0;
    for (const { engine } of this.served.values()) {
      active += engine.load.active;
      queued += engine.load.queued;
    }
    return { active, queued, inFlight: this.inFlight };
  }

  engineFor(modelId: string): Engine {
    const served = this.served.get(modelId);
    if (served === undefined) throw new ModelNotFoundError(modelId, [...this.served.keys()]);
    return served.engine;
  }

  tokensGenerated(): number {
    let n = 0;
    for (const { engine } of this.served.values()) n += engine.tokensGenerated;
    return n;
  }

  /** Validates `raw`, generates, and signs the receipt. Throws typed NodeErrors. */
  async run(raw: unknown, options: RunOptions = {}): Promise<RunOutput> {
    return this.execute(this.prepare(raw, options.requestId), options);
  }

  /** Checks and tokenizes a request (synchronous: every refusal happens before any work). */
  prepare(raw: unknown, requestId?: string): PreparedJob {
    if (this.draining) throw new DrainingError();
    const request = parseInferenceRequest(raw);
    const served = this.served.get(request.model);
    if (served === undefined) throw new ModelNotFoundError(request.model, [...this.served.keys()]);
    const { tokenizer, manifest } = served.model;

    let promptIds: number[];
    const stop = [...request.params.stop];
    if (request.prompt.kind === "tokens") {
      promptIds = request.prompt.ids;
      if (promptIds.some((id) => id >= manifest.vocabSize)) throw new InvalidRequestError(`prompt_token_ids must be below the vocabulary size ${manifest.vocabSize}`, "prompt_token_ids");
    } else {
      let text: string;
      if (request.prompt.kind === "chat") {
        const chat = formatChat(manifest.chatFormat, request.prompt.messages);
        text = chat.prompt;
        for (const s of chat.stop) if (!stop.includes(s)) stop.push(s);
      } else {
        text = request.prompt.text;
      }
      promptIds = tokenizer.encode(text);
      if (promptIds.length === 0) throw new InvalidRequestError("prompt must not be empty", "prompt");
    }
    if (promptIds.length >= manifest.contextLength) throw new ContextLengthError(promptIds.length, manifest.contextLength);
    return {
      served,
      requestId: requestId ?? `local-${randomBytes(12).toString("hex")}`,
      promptIds,
      params: { ...request.params, stop, seed: request.params.seed ?? randomBytes(4).readUInt32BE(0) },
    };
  }

  /** Generates a prepared job and signs its receipt. */
  execute(job: PreparedJob, options: RunOptions = {}): Promise<RunOutput> {
    const running = this.generateAndSign(job, options);
    // drain() waits for these, receipt signing included.
    const settled = running.then(() => undefined, () => undefined);
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return running;
  }

  private async generateAndSign(job: PreparedJob, options: RunOptions): Promise<RunOutput> {
    const { served, requestId, promptIds, params } = job;
    const { seed } = params;
    const { engine } = served;
    const { tokenizer, manifest } = served.model;
    const tokenText = (id: number): string => (id === manifest.eosTokenId ? "" : tokenizer.decode([id]));
    const onToken = options.onToken;
    this.inFlight++;
    try {
      const out = await engine.generate({
        promptIds,
        params,
        signal: options.signal,
        onToken:
          onToken === undefined
            ? undefined
            : (e: TokenEvent) => onToken({ index: e.index, tokenId: e.tokenId, text: e.text, logprob: e.logprob, top: e.top.map((t) => ({ tokenId: t.tokenId, text: tokenText(t.tokenId), logprob: t.logprob })) }),
      });
      const timings = { startedAt: out.startedAt, firstTokenMs: out.firstTokenAt - out.startedAt, totalMs: out.finishedAt - out.startedAt };
      const result: InferenceResult = {
        requestId,
        model: manifest.modelId,
        text: out.text,
        finishReason: out.finishReason,
        promptTokenIds: promptIds,
        outputTokenIds: out.outputIds,
        logprobs: out.logprobs.map((lp) => ({
          tokenId: lp.tokenId,
          text: tokenText(lp.tokenId),
          logprob: lp.logprob,
          top: lp.top.map((t) => ({ tokenId: t.tokenId, text: tokenText(t.tokenId), logprob: t.logprob })),
        })),
        usage: { promptTokens: promptIds.length, completionTokens: out.outputIds.length },
        seed,
        timings,
      };
      const receipt = await signReceipt(
        this.account,
        {
          requestId,
          modelId: manifest.modelId,
          promptHash: hashTokenIds(promptIds),
          outputHash: hashTokenIds(out.outputIds),
          logprobsHash: hashLogprobs(out.logprobs.map((lp) => lp.logprob)),
          promptTokens: promptIds.length,
          outputTokens: out.outputIds.length,
          ...timings,
        },
        this.config.chainId,
      );
      return { result, receipt };
    } finally {
      this.inFlight--;
    }
  }

  /** Stops taking requests and waits for every one in flight to finish. */
  async drain(): Promise<void> {
    this.draining = true;
    await Promise.all([...this.served.values()].map(({ engine }) => engine.drain()));
    await Promise.all([...this.running]);
  }
}
