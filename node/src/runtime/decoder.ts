/**
 * Runs the decoder graph: prefill of left-padded prompts and one-token decode steps over a
 * batched KV cache. Knows tensors and shapes, nothing about requests or sampling.
 */
import ort from "onnxruntime-node";
import { type CacheShape, type CacheTensor, type KvCache, decodeAttentionMask } from "./kvCache.ts";

export type ForwardOutput = {
  /** [B, S, V] row-major. */
  logits: Float32Array;
  sequenceLength: number;
  present: KvCache;
};

export type DecoderCounters = { forwardPasses: number; prefillPasses: number; decodeSteps: number; decodeRows: number; maxDecodeBatch: number };

export class Decoder {
  readonly shape: CacheShape;
  readonly vocabSize: number;
  readonly counters: DecoderCounters = { forwardPasses: 0, prefillPasses: 0, decodeSteps: 0, decodeRows: 0, maxDecodeBatch: 0 };
  private readonly session: ort.InferenceSession;

  constructor(session: ort.InferenceSession, shape: CacheShape, vocabSize: number) {
    this.session = session;
    this.shape = shape;
    this.vocabSize = vocabSize;
  }

  /**
   * Prefill of several prompts at once, left-padded to the longest: real tokens end every row,
   * so row r's next position is its own length. Returns logits for every position.
   */
  async prefill(prompts: readonly (readonly number[])[]): Promise<ForwardOutput> {
    const batch = prompts.length;
    const width = prompts.reduce((m, p) => Math.max(m, p.length), 0);
    const ids = new BigInt64Array(batch * width);
    const mask = new BigInt64Array(batch * width);
    const positions = new BigInt64Array(batch * width);
    prompts.forEach((prompt, row) => {
      const pad = width - prompt.length;
      prompt.forEach((id, i) => {
        ids[row * width + pad + i] = BigInt(id);
        mask[row * width + pad + i] = 1n;
        positions[row * width + pad + i] = BigInt(i);
      });
    });
    this.counters.prefillPasses++;
    return this.run(ids, mask, positions, batch, width, null);
  }

  /** One token per row on top of `cache`; `realLengths[r]` = real tokens of row r in the cache. */
  async decodeStep(tokens: readonly number[], realLengths: readonly number[], cache: KvCache): Promise<ForwardOutput> {
    const batch = tokens.length;
    const ids = BigInt64Array.from(tokens, (t) => BigInt(t));
    const positions = BigInt64Array.from(realLengths, (l) => BigInt(l));
    const mask = decodeAttentionMask(realLengths, cache.length);
    this.counters.decodeSteps++;
    this.counters.decodeRows += batch;
    this.counters.maxDecodeBatch = Math.max(this.counters.maxDecodeBatch, batch);
    return this.run(ids, mask, positions, batch, 1, cache);
  }

  private async run(ids: BigInt64Array, mask: BigInt64Array, positions: BigInt64Array, batch: number, seqLen: number, cache: KvCache | null): Promise<ForwardOutput> {
    const { layers, heads, headDim } = this.shape;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, [batch, seqLen]),
      attention_mask: new ort.Tensor("int64", mask, [batch, mask.length / batch]),
      position_ids: new ort.Tensor("int64", positions, [batch, seqLen]),
    };
    const pastLength = cache?.length ?? 0;
    for (let l = 0; l < layers; l++) {
      const key = cache?.keys[l]?.data ?? new Float32Array(0);
      const value = cache?.values[l]?.data ?? new Float32Array(0);
      feeds[`past_key_values.${l}.key`] = new ort.Tensor("float32", key, [batch, heads, pastLength, headDim]);
      feeds[`past_key_values.${l}.value`] = new ort.Tensor("float32", value, [batch, heads, pastLength, headDim]);
    }
    this.counters.forwardPasses++;
    const out = await this.session.run(feeds);
    const length = pastLength + seqLen;
    const tensor = (name: string): CacheTensor => ({ data: out[name]!.data as Float32Array, batch, length });
    return {
      logits: out.logits!.data as Float32Array,
      sequenceLength: seqLen,
      present: {
        keys: Array.from({ length: layers }, (_, l) => tensor(`present.${l}.key`)),
        values: Array.from({ length: layers }, (_, l) => tensor(`present.${l}.value`)),
        batch,
        length,
      },
    };
  }
}
