/**
 * Recomputes a sampled response's logprobs with the approved model: one prefill over the node's
 * own prompt + output token ids, so every output position is scored in the same forward pass.
 * Position promptLen - 1 + j predicts output j. The log-softmax and float32 rounding are the
 * node engine's own (tokenLogprobs), so an honest node differs only by batching noise.
 */
import { loadModel, type LoadedModel } from "../../../node/src/model/load.ts";
import type { SessionOptions } from "../../../node/src/runtime/providers.ts";
import { tokenLogprobs, type TokenAlternative } from "../../../sdk/src/sampling.ts";
import { replaySampling, type ReplayParams, type ReplayResult, type ReplayTolerance } from "./replay.ts";

export type { TokenAlternative };

/** The approved model for a model id: where its files are and the manifest hash governance approved. */
export type ApprovedModel = { modelId: string; folder: string; /** sha256 hex of pod-manifest.json */ manifestSha256: string };

export type Recomputation = {
  modelId: string;
  manifestSha256: string;
  /** Log-probability of each output token under the approved model. */
  chosen: number[];
  /** The top-k alternatives at each output position, best first. */
  top: TokenAlternative[][];
  /** The seeded draws replayed over the same logits, when asked for (replay.ts). */
  replay?: ReplayResult | undefined;
};

/** Asks the recomputation to replay the node's seeded sampling too. */
export type ReplayRequest = { params: ReplayParams; tolerance: ReplayTolerance };

/** What validateSample needs: anything that scores prompt + output (a Recomputer, or a stand-in in tests). */
export interface LogprobRecomputer {
  recompute(promptTokenIds: readonly number[], outputTokenIds: readonly number[], topK: number, replay?: ReplayRequest): Promise<Recomputation>;
}

/** The folder's weights are not the approved ones (or not the model asked for). */
export class ModelHashMismatchError extends Error {
  override name = "ModelHashMismatchError";
  readonly modelId: string;
  readonly expected: string;
  readonly actual: string;
  constructor(modelId: string, expected: string, actual: string) {
    super(`model ${modelId}: manifest sha256 ${actual} is not the approved ${expected}`);
    this.modelId = modelId;
    this.expected = expected;
    this.actual = actual;
  }
}

export class ModelIdMismatchError extends Error {
  override name = "ModelIdMismatchError";
  constructor(expected: string, actual: string) {
    super(`model folder holds ${actual}, not ${expected}`);
  }
}

/** Token ids a recomputation cannot score (out of vocabulary, too long, no output). */
export class RecomputeInputError extends Error {
  override name = "RecomputeInputError";
}

const HEX64 = /^[0-9a-f]{64}$/;

export class Recomputer implements LogprobRecomputer {
  readonly model: LoadedModel;
  /** One forward pass at a time: the session and its memory are shared. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(model: LoadedModel) {
    this.model = model;
  }

  /**
   * Loads `approved.folder` (file checksums are verified by loadModel) and refuses it unless its
   * manifest hash is the approved one for the model id.
   */
  static async load(approved: ApprovedModel, options: SessionOptions = { provider: "cpu" }): Promise<Recomputer> {
    const expected = approved.manifestSha256.toLowerCase().replace(/^0x/, "");
    if (!HEX64.test(expected)) throw new RecomputeInputError(`approved manifestSha256 for ${approved.modelId} is not 32 bytes of hex`);
    const model = await loadModel(approved.folder, options);
    if (model.manifest.modelId !== approved.modelId) throw new ModelIdMismatchError(approved.modelId, model.manifest.modelId);
    if (model.manifestSha256 !== expected) throw new ModelHashMismatchError(approved.modelId, expected, model.manifestSha256);
    return new Recomputer(model);
  }

  get modelId(): string {
    return this.model.manifest.modelId;
  }

  async recompute(promptTokenIds: readonly number[], outputTokenIds: readonly number[], topK: number, replay?: ReplayRequest): Promise<Recomputation> {
    this.checkInput(promptTokenIds, outputTokenIds, topK);
    const run = this.queue.then(() => this.score(promptTokenIds, outputTokenIds, topK, replay));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private checkInput(prompt: readonly number[], output: readonly number[], topK: number): void {
    const { vocabSize, contextLength } = this.model.manifest;
    if (prompt.length === 0) throw new RecomputeInputError("prompt has no tokens");
    if (output.length === 0) throw new RecomputeInputError("output has no tokens");
    // The last output token is predicted, never fed, so it does not count against the context.
    if (prompt.length + output.length - 1 > contextLength) throw new RecomputeInputError(`prompt + output (${prompt.length} + ${output.length}) exceed the context of ${contextLength}`);
    for (const id of [...prompt, ...output]) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new RecomputeInputError(`token id ${id} is outside the vocabulary of ${vocabSize}`);
    }
    if (!Number.isInteger(topK) || topK < 0) throw new RecomputeInputError(`topK must be a non-negative integer (got ${topK})`);
  }

  private async score(prompt: readonly number[], output: readonly number[], topK: number, replay: ReplayRequest | undefined): Promise<Recomputation> {
    const sequence = [...prompt, ...output.slice(0, -1)];
    const { logits } = await this.model.decoder.prefill([sequence]);
    const V = this.model.decoder.vocabSize;
    const chosen: number[] = [];
    const top: TokenAlternative[][] = [];
    output.forEach((tokenId, j) => {
      const scored = tokenLogprobs(logits, (prompt.length - 1 + j) * V, V, tokenId, topK);
      chosen.push(scored.logprob);
      top.push(scored.top);
    });
    const replayed = replay === undefined ? undefined : replaySampling(logits, V, (j) => prompt.length - 1 + j, output, replay.params, replay.tolerance);
    return { modelId: this.model.manifest.modelId, manifestSha256: this.model.manifestSha256, chosen, top, ...(replayed === undefined ? {} : { replay: replayed }) };
  }
}
