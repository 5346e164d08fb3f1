/**
 * Dishonest worker nodes for the validator bench: each one is the real NodeService (node/src)
 * with one thing changed, the way a node operator cutting corners would change it. None of this
 * is a mode of the production node; it wraps it from the outside.
 *
 * - substitute: another model of the same shape (another seed) served as the approved model id.
 * - perturbed: the approved weights after 4-bit block quantize-dequantize (heavier quantization).
 * - fabricated-scored / fabricated-unscored: pre-generated answers instead of generation, with
 *   logprobs from one prefill of the real model (scored) or made up (unscored).
 * - wrong-tokenizer: prompts split into GPT-2's byte tokens instead of BPE.
 * - lying-speed: reports a decode phase of 0 ms (faster than any governed bound).
 * - inflated-usage: bills the prompt twice (its ids repeated, so ids and counts agree).
 */
import type { LocalAccount } from "viem";
import { tokenLogprobs } from "../../../sdk/src/sampling.ts";
import type { LoadedModel } from "../../../node/src/model/load.ts";
import { byteToChar } from "../../../node/src/model/byteLevel.ts";
import { NodeService, type PreparedJob, type RunOptions, type RunOutput, type ServiceConfig } from "../../../node/src/service.ts";
import { hashLogprobs, hashTokenIds, signReceipt, type SignedReceipt } from "../../../sdk/src/receipt.ts";
import type { InferenceResult } from "../../../sdk/src/nodeProtocol.ts";

export const DISHONEST_KINDS = ["substitute", "perturbed", "fabricated-scored", "fabricated-unscored", "wrong-tokenizer", "lying-speed", "inflated-usage"] as const;
export type DishonestKind = (typeof DISHONEST_KINDS)[number];

/** The models a bench needs: the approved one and the two other builds (node/src/model/build.ts). */
export type BenchModels = { approved: LoadedModel; substitute: LoadedModel; perturbed: LoadedModel };

/** `model` presented as the approved one: its id and the approved manifest hash (a node can claim any). */
export function disguisedAs(model: LoadedModel, approved: LoadedModel): LoadedModel {
  return { ...model, manifest: { ...model.manifest, modelId: approved.manifest.modelId }, manifestSha256: approved.manifestSha256 };
}

/** Answers written before any request came, as a node skipping inference would return them. */
export const CANNED_ANSWERS = [
  " Sure, here is a short answer to your question.",
  " I think the answer is forty-two, as always.",
  " That depends on many factors, but usually yes.",
  " Thank you for asking. Let me explain it simply.",
];

/** Re-signs `out` with changed fields (the node's own key: the lie is signed). */
async function resign(account: LocalAccount, chainId: number, result: InferenceResult, startedAt: number, firstTokenMs: number, totalMs: number): Promise<RunOutput> {
  const timings = { startedAt, firstTokenMs, totalMs };
  const receipt: SignedReceipt = await signReceipt(
    account,
    {
      requestId: result.requestId,
      modelId: result.model,
      promptHash: hashTokenIds(result.promptTokenIds),
      outputHash: hashTokenIds(result.outputTokenIds),
      logprobsHash: hashLogprobs(result.logprobs.map((lp) => lp.logprob)),
      promptTokens: result.promptTokenIds.length,
      outputTokens: result.outputTokenIds.length,
      ...timings,
    },
    chainId,
  );
  return { result: { ...result, timings }, receipt };
}

/** Returns a canned answer instead of generating; logprobs scored by the real model or made up. */
class FabricatingNode extends NodeService {
  private readonly scored: boolean;
  private answer = 0;

  constructor(account: LocalAccount, model: LoadedModel, config: ServiceConfig, scored: boolean) {
    super(account, [model], config);
    this.scored = scored;
  }

  override async execute(job: PreparedJob, options: RunOptions = {}): Promise<RunOutput> {
    const { model } = job.served;
    const startedAt = Date.now();
    const text = CANNED_ANSWERS[this.answer++ % CANNED_ANSWERS.length]!;
    const outputIds = model.tokenizer.encode(text).slice(0, Math.max(1, job.params.maxTokens));
    const topN = job.params.topLogprobs;
    let logprobs: { tokenId: number; logprob: number; top: { tokenId: number; logprob: number }[] }[];
    if (this.scored) {
      const { logits } = await model.decoder.prefill([[...job.promptIds, ...outputIds.slice(0, -1)]]);
      const V = model.decoder.vocabSize;
      logprobs = outputIds.map((tokenId, j) => ({ tokenId, ...tokenLogprobs(logits, (job.promptIds.length - 1 + j) * V, V, tokenId, topN) }));
    } else {
      // Plausible-looking numbers: a confident model, alternatives a little below.
      logprobs = outputIds.map((tokenId, j) => ({ tokenId, logprob: Math.fround(-1 - 0.1 * (j % 3)), top: Array.from({ length: topN }, (_, k) => ({ tokenId: (tokenId + k + 1) % 50_000, logprob: Math.fround(-2 - k) })) }));
    }
    const tokenText = (id: number) => model.tokenizer.decode([id]);
    logprobs.forEach((lp, index) => options.onToken?.({ index, tokenId: lp.tokenId, text: tokenText(lp.tokenId), logprob: lp.logprob, top: lp.top.map((t) => ({ ...t, text: tokenText(t.tokenId) })) }));
    const result: InferenceResult = {
      requestId: job.requestId,
      model: model.manifest.modelId,
      text: model.tokenizer.decode(outputIds),
      finishReason: outputIds.length >= job.params.maxTokens ? "length" : "stop",
      promptTokenIds: job.promptIds,
      outputTokenIds: outputIds,
      logprobs: logprobs.map((lp) => ({ tokenId: lp.tokenId, text: tokenText(lp.tokenId), logprob: lp.logprob, top: lp.top.map((t) => ({ ...t, text: tokenText(t.tokenId) })) })),
      usage: { promptTokens: job.promptIds.length, completionTokens: outputIds.length },
      seed: job.params.seed,
      timings: { startedAt, firstTokenMs: 0, totalMs: 0 },
    };
    // A believable pace: 5 ms to the first token, 10 ms per token after it (100 tokens/s).
    return resign(this.account, this.config.chainId, result, startedAt, 5, 5 + 10 * Math.max(0, outputIds.length - 1));
  }
}

/** Tokenizes prompts into single bytes (each a GPT-2 token too): a plausible but wrong tokenizer. */
class ByteTokenizerNode extends NodeService {
  override prepare(raw: unknown, requestId?: string): PreparedJob {
    const job = super.prepare(raw, requestId);
    const { tokenizer } = job.served.model;
    const bytes = new TextEncoder().encode(tokenizer.decode(job.promptIds));
    const promptIds = [...bytes].map((b) => {
      const id = tokenizer.tokenId(byteToChar[b]!);
      if (id === undefined) throw new Error(`byte ${b} has no token`);
      return id;
    });
    return { ...job, promptIds: promptIds.slice(-(job.served.model.manifest.contextLength - 1 - job.params.maxTokens)) };
  }
}

/** Generates honestly, then signs a decode phase of 0 ms. */
class LyingSpeedNode extends NodeService {
  override async execute(job: PreparedJob, options: RunOptions = {}): Promise<RunOutput> {
    const out = await super.execute(job, options);
    const t = out.result.timings;
    return resign(this.account, this.config.chainId, out.result, t.startedAt, t.firstTokenMs, t.firstTokenMs);
  }
}

/** Runs (and bills) the prompt twice: ids and counts agree, the request had half of them. */
class InflatingNode extends NodeService {
  override prepare(raw: unknown, requestId?: string): PreparedJob {
    const job = super.prepare(raw, requestId);
    return { ...job, promptIds: [...job.promptIds, ...job.promptIds] };
  }
}

/** A real node service of `kind`, serving under the approved model's id. */
export function dishonestService(kind: DishonestKind, account: LocalAccount, models: BenchModels, config: ServiceConfig): NodeService {
  const { approved } = models;
  switch (kind) {
    case "substitute":
      return new NodeService(account, [disguisedAs(models.substitute, approved)], config);
    case "perturbed":
      return new NodeService(account, [disguisedAs(models.perturbed, approved)], config);
    case "fabricated-scored":
      return new FabricatingNode(account, approved, config, true);
    case "fabricated-unscored":
      return new FabricatingNode(account, approved, config, false);
    case "wrong-tokenizer":
      return new ByteTokenizerNode(account, [approved], config);
    case "lying-speed":
      return new LyingSpeedNode(account, [approved], config);
    case "inflated-usage":
      return new InflatingNode(account, [approved], config);
  }
}
