/**
 * The validator's recomputation against the real node: the tiny model generates (alone and in a
 * batch of concurrent requests) and one prefill over prompt + output gives back the node's
 * logprobs within float32 noise.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TINY, tinyModelFolder, tinyService } from "../../node/test/fixtures.ts";
import { ModelHashMismatchError, ModelIdMismatchError, RecomputeInputError, Recomputer, type Recomputation } from "../src/validate/recompute.ts";
import type { InferenceResult } from "../../sdk/src/nodeProtocol.ts";

const TOLERANCE = 1e-4;
const TOP = 4;

const setup = (async () => {
  const { service, model } = await tinyService();
  const recomputer = await Recomputer.load({ modelId: TINY, folder: model.folder, manifestSha256: model.manifestSha256 }, { provider: "cpu", intraOpThreads: 1 });
  return { service, model, recomputer };
})();

/** Largest |node - recomputed| over chosen and top-k logprobs; asserts the same top-k ids. */
function maxDeviation(result: InferenceResult, recomputed: Recomputation): number {
  assert.equal(recomputed.chosen.length, result.outputTokenIds.length);
  let max = 0;
  result.logprobs.forEach((lp, j) => {
    max = Math.max(max, Math.abs(lp.logprob - recomputed.chosen[j]!));
    assert.deepEqual(lp.top.map((t) => t.tokenId), recomputed.top[j]!.map((t) => t.tokenId), `top-k ids at ${j}`);
    lp.top.forEach((t, k) => (max = Math.max(max, Math.abs(t.logprob - recomputed.top[j]![k]!.logprob))));
  });
  return max;
}

test("a single generation recomputes to the node's logprobs within 1e-4", async (t) => {
  const { service, recomputer } = await setup;
  const { result } = await service.run({ model: TINY, prompt: "The validator recomputes", max_tokens: 16, top_logprobs: TOP, seed: 7 });
  const recomputed = await recomputer.recompute(result.promptTokenIds, result.outputTokenIds, TOP);
  assert.equal(recomputed.modelId, TINY);
  const max = maxDeviation(result, recomputed);
  t.diagnostic(`single: max |Δ| ${max.toExponential(3)} over ${result.outputTokenIds.length} tokens`);
  assert.ok(max <= TOLERANCE, `max deviation ${max}`);
});

test("generations batched with others (left-padded prefill, shared decode steps) recompute within 1e-4", async (t) => {
  const { service, recomputer } = await setup;
  const engine = service.engineFor(TINY);
  const before = engine.counters.maxDecodeBatch;
  const prompts = ["Hi", "A much longer prompt, so that the others are left-padded in the prefill", "User: hello\nAssistant:", "Numbers 1 2 3 4"];
  const outs = await Promise.all(prompts.map((prompt, i) => service.run({ model: TINY, prompt, max_tokens: 8 + 2 * i, temperature: i === 0 ? 0 : 0.9, top_logprobs: TOP, seed: 40 + i })));
  assert.ok(engine.counters.maxDecodeBatch >= Math.max(2, before), "the requests were decoded together");
  let max = 0;
  for (const { result } of outs) max = Math.max(max, maxDeviation(result, await recomputer.recompute(result.promptTokenIds, result.outputTokenIds, TOP)));
  t.diagnostic(`batched x${prompts.length}: max |Δ| ${max.toExponential(3)}`);
  assert.ok(max <= TOLERANCE, `max deviation ${max}`);
});

test("load refuses weights whose manifest hash is not the approved one, and another model's folder", async () => {
  const { model } = await setup;
  await assert.rejects(Recomputer.load({ modelId: TINY, folder: model.folder, manifestSha256: "ab".repeat(32) }), (e: unknown) => e instanceof ModelHashMismatchError && e.actual === model.manifestSha256);
  await assert.rejects(Recomputer.load({ modelId: TINY, folder: await tinyModelFolder("perturbed"), manifestSha256: model.manifestSha256 }), ModelIdMismatchError);
  await assert.rejects(Recomputer.load({ modelId: TINY, folder: model.folder, manifestSha256: "not-a-hash" }), RecomputeInputError);
});

test("recompute refuses ids the model cannot score", async () => {
  const { recomputer } = await setup;
  await assert.rejects(recomputer.recompute([1, 2], [50257], 2), RecomputeInputError);
  await assert.rejects(recomputer.recompute([1, 2], [], 2), RecomputeInputError);
  await assert.rejects(recomputer.recompute([], [3], 2), RecomputeInputError);
  await assert.rejects(recomputer.recompute(new Array(500).fill(1), new Array(20).fill(1), 2), RecomputeInputError);
  // Still usable after refusals.
  assert.equal((await recomputer.recompute([1, 2], [3, 4], 2)).chosen.length, 2);
});
