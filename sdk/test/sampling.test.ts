/**
 * The protocol's sampling pinned: nodes draw with these functions and validators replay the
 * draws, so a seed must keep giving exactly these tokens across releases.
 */
import assert from "node:assert/strict";
import test from "node:test";
import { argmax, samplingWeights, selectToken, tokenLogprobs, topKIndices, Xoshiro128, type SamplingParams } from "../src/sampling.ts";

const logits = Float32Array.from([2, 1, 0.5, 0, -1, 3, 3, -2]);

function draws(params: SamplingParams, seed: number, count: number): number[] {
  const rng = new Xoshiro128(seed);
  return Array.from({ length: count }, () => selectToken(logits, 0, logits.length, params, rng));
}

test("Xoshiro128 gives the pinned words and floats for a seed", () => {
  const rng = new Xoshiro128(42);
  assert.deepEqual(Array.from({ length: 4 }, () => rng.nextUint32()), [2837322924, 544945897, 479756282, 3500138142]);
  const top = new Xoshiro128(0xffffffff);
  assert.deepEqual([top.nextFloat(), top.nextFloat()], [0.19461841275915504, 0.44733440689742565]);
});

test("selectToken: pinned seeded draws under temperature, top-k and top-p", () => {
  assert.deepEqual(draws({ temperature: 1, topP: 1, topK: 0 }, 7, 16), [3, 5, 5, 1, 2, 5, 6, 6, 0, 5, 3, 5, 1, 1, 1, 6]);
  assert.deepEqual(draws({ temperature: 0.7, topP: 0.9, topK: 0 }, 7, 16), [5, 5, 5, 5, 5, 5, 6, 6, 0, 5, 5, 5, 5, 5, 5, 6]);
  assert.deepEqual(draws({ temperature: 1.3, topP: 1, topK: 3 }, 7, 16), [5, 5, 5, 0, 5, 5, 6, 6, 0, 5, 5, 5, 0, 0, 0, 6]);
  assert.deepEqual(draws({ temperature: 1, topP: 0.5, topK: 4 }, 7, 16), [5, 6, 5, 5, 5, 6, 6, 6, 5, 5, 5, 5, 5, 5, 5, 6]);
  // Greedy draws nothing: the first best logit (ties go to the lower id), whatever the seed.
  assert.deepEqual(draws({ temperature: 0, topP: 0.5, topK: 2 }, 7, 3), [5, 5, 5]);
});

test("samplingWeights: tempered weights with top-k and the nucleus cut to zero", () => {
  const { weights, total } = samplingWeights(logits, 0, logits.length, { temperature: 0.7, topP: 0.9, topK: 0 });
  const kept = [...weights.keys()].filter((i) => weights[i]! > 0);
  assert.deepEqual(kept, [0, 5, 6]);
  assert.equal(weights[0], Math.exp((2 - 3) / 0.7));
  assert.equal(total, Math.exp((2 - 3) / 0.7) + 1 + 1, "summed in token order");
  const topK = samplingWeights(logits, 0, logits.length, { temperature: 1, topP: 1, topK: 2 });
  assert.deepEqual(Array.from(topK.weights), [0, 0, 0, 0, 0, 1, 1, 0]);
  assert.equal(topK.total, 2);
});

test("samplingWeights: a validator's exemption keeps only its token just below the nucleus' edge", () => {
  const edge = Float32Array.from([0, 0, -1e-5, -1e-5]);
  const params = { temperature: 1, topP: 0.5, topK: 0 };
  assert.equal(samplingWeights(edge, 0, 4, params).weights[2], 0);
  const exempted = samplingWeights(edge, 0, 4, params, argmax(edge, 0, 4), { index: 2, tolerance: 1e-4 });
  assert.ok(exempted.weights[2]! > 0);
  assert.equal(exempted.weights[3], 0);
  assert.equal(exempted.total, 2 + exempted.weights[2]!);
  // Too far below for the tolerance: cut as the node cuts it.
  assert.equal(samplingWeights(edge, 0, 4, params, 0, { index: 2, tolerance: 1e-7 }).weights[2], 0);
});

test("top-k order, argmax ties and logprobs of the chosen token", () => {
  assert.equal(argmax(logits, 0, logits.length), 5);
  assert.deepEqual(topKIndices(logits, 0, logits.length, 3), [5, 6, 0]);
  const { logprob, top } = tokenLogprobs(logits, 0, logits.length, 0, 2);
  const lse = Math.log([...logits].reduce((s, x) => s + Math.exp(x), 0));
  assert.ok(Math.abs(logprob - (2 - lse)) < 1e-6);
  assert.deepEqual(top.map((t) => t.tokenId), [5, 6]);
  assert.equal(top[0]!.logprob, top[1]!.logprob);
});
