/**
 * Sampling replay: were the node's output tokens drawn from the approved model's distribution
 * with the request's parameters and the seed the node reported?
 *
 * The protocol's token selection is sdk/src/sampling.ts selectToken with one
 * Xoshiro128(seed) draw per generated token (none when greedy). Over the prefill's logits of
 * the node's own prompt + output, the validator repeats each draw and asks whether it lands on
 * the node's token. Output that the model did not sample (pre-generated text, scored or not)
 * lands elsewhere at nearly every position, whatever its logprobs. A likelihood test cannot do
 * this on a near-uniform model (the tiny model's entropy is 10.81 nats of 10.82), the replay can.
 *
 * Batching noise (~1e-6 on a logit) moves the draw's boundaries by about as much, so a position
 * counts as consistent when the draw lies within `tolerance` (relative to the total mass) of the
 * node's token's interval; greedy positions when the token's logit is within `greedyLogitTolerance`
 * of the best one.
 */
import { argmax, samplingWeights, Xoshiro128 } from "../../../sdk/src/sampling.ts";

/** The sampling parameters of a request as the node applied them. */
export type ReplayParams = { temperature: number; topP: number; topK: number; seed: number };

export type ReplayTolerance = {
  /** Slack on the draw, as a fraction of the total probability mass. */
  tolerance: number;
  /** Slack on a greedy token's logit below the best logit. */
  greedyLogitTolerance: number;
};

export type ReplayResult = {
  positions: number;
  /** Positions whose token the replayed draw does not reach (indices into the output). */
  mismatches: number[];
};

/** Where the node's defaults are (node/src/engine/request.ts): temperature 1, top_p 1, top_k 0. */
export const NODE_DEFAULT_SAMPLING = { temperature: 1, topP: 1, topK: 0 } as const;

/** The replay parameters of a sampled request's params; null when the node reported no usable seed. */
export function replayParamsOf(params: Readonly<Record<string, unknown>>): ReplayParams | null {
  const number = (key: string, fallback: number): number => {
    const v = params[key];
    return typeof v === "number" && Number.isFinite(v) ? v : fallback;
  };
  const temperature = number("temperature", NODE_DEFAULT_SAMPLING.temperature);
  const seed = params.seed;
  const seeded = typeof seed === "number" && Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff;
  // Greedy decoding draws nothing: no seed needed.
  if (!seeded && temperature !== 0) return null;
  return { temperature, topP: number("top_p", NODE_DEFAULT_SAMPLING.topP), topK: number("top_k", NODE_DEFAULT_SAMPLING.topK), seed: seeded ? seed : 0 };
}

/**
 * Whether the draw `u` (uniform in [0, 1)) over one row of logits can pick `chosen`: the node's
 * own distribution (samplingWeights), except that near the nucleus' edge noise may keep or drop
 * a token, so the node's own token stays in when within `tolerance` of the cutoff.
 */
function drawReaches(logits: Float32Array, offset: number, size: number, params: ReplayParams, u: number, chosen: number, tolerance: number): boolean {
  const { weights, total } = samplingWeights(logits, offset, size, params, argmax(logits, offset, size), { index: chosen, tolerance });
  let before = 0;
  for (let i = 0; i < chosen; i++) before += weights[i]!;
  const draw = u * total;
  const slack = tolerance * total;
  return draw >= before - slack && draw <= before + weights[chosen]! + slack;
}

/**
 * Replays the draws over `logits` (one row of `size` per position; row `rowOf(j)` predicts output
 * j) and returns the positions whose token the draw does not reach.
 */
export function replaySampling(logits: Float32Array, size: number, rowOf: (j: number) => number, output: readonly number[], params: ReplayParams, tol: ReplayTolerance): ReplayResult {
  const rng = new Xoshiro128(params.seed);
  const mismatches: number[] = [];
  output.forEach((tokenId, j) => {
    const offset = rowOf(j) * size;
    if (params.temperature === 0) {
      const best = argmax(logits, offset, size);
      if (logits[offset + tokenId]! < logits[offset + best]! - tol.greedyLogitTolerance) mismatches.push(j);
      return;
    }
    if (!drawReaches(logits, offset, size, params, rng.nextFloat(), tokenId, tol.tolerance)) mismatches.push(j);
  });
  return { positions: output.length, mismatches };
}
