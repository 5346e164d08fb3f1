import { test } from "node:test";
import assert from "node:assert/strict";
import { findStop, heldBackLength } from "../src/engine/stop.ts";
import { argmax, logSumExp, selectToken, topKIndices } from "../../sdk/src/sampling.ts";
import { Xoshiro128 } from "../src/model/rng.ts";
import { assembleCache, decodeAttentionMask, type KvCache } from "../src/runtime/kvCache.ts";
import { planProviders } from "../src/runtime/providers.ts";
import { reconnectDelay } from "../src/gateway/client.ts";
import { formatChat } from "../src/engine/chat.ts";
import { parseInferenceRequest } from "../src/engine/request.ts";

test("stop sequences: earliest match, and prefixes held back while streaming", () => {
  assert.equal(findStop("abc END def STOP", ["STOP", "END"], 0), 4);
  assert.equal(findStop("abc", ["x"], 0), -1);
  assert.equal(heldBackLength("hello EN", ["END"]), 2);
  assert.equal(heldBackLength("hello", ["END"]), 0);
  assert.equal(heldBackLength("a\nUse", ["\nUser:"]), 4);
});

test("sampling helpers: argmax, top-k order, log-sum-exp, seeded draws", () => {
  const logits = Float32Array.from([0.5, 2, -1, 2, 1]);
  assert.equal(argmax(logits, 0, 5), 1);
  assert.deepEqual(topKIndices(logits, 0, 5, 3), [1, 3, 4]);
  const lse = logSumExp(logits, 0, 5);
  assert.ok(Math.abs([...logits].reduce((s, x) => s + Math.exp(x - lse), 0) - 1) < 1e-12);
  const params = { temperature: 1, topP: 1, topK: 0 };
  const draws = (seed: number) => Array.from({ length: 20 }, ((rng) => () => selectToken(logits, 0, 5, params, rng))(new Xoshiro128(seed)));
  assert.deepEqual(draws(1), draws(1));
  assert.notDeepEqual(draws(1), draws(2));
  const greedyK = Array.from({ length: 20 }, ((rng) => () => selectToken(logits, 0, 5, { temperature: 1, topP: 1, topK: 2 }, rng))(new Xoshiro128(3)));
  assert.ok(greedyK.every((t) => t === 1 || t === 3), "top_k 2 keeps the two best");
});

test("KV cache assembly right-aligns rows and masks the padding", () => {
  const shape = { layers: 1, heads: 1, headDim: 1 };
  const tensor = (values: number[], batch: number, length: number) => ({ data: Float32Array.from(values), batch, length });
  const a: KvCache = { keys: [tensor([1, 2, 3], 1, 3)], values: [tensor([1, 2, 3], 1, 3)], batch: 1, length: 3 };
  const b: KvCache = { keys: [tensor([0, 0, 7, 8, 9, 9], 2, 3)], values: [tensor([0, 0, 7, 8, 9, 9], 2, 3)], batch: 2, length: 3 };
  const merged = assembleCache(shape, [{ source: a, row: 0, realLength: 3 }, { source: b, row: 0, realLength: 1 }, { source: b, row: 1, realLength: 3 }]);
  assert.equal(merged.length, 3);
  assert.deepEqual([...merged.keys[0]!.data], [1, 2, 3, 0, 0, 7, 8, 9, 9]);
  assert.deepEqual([...decodeAttentionMask([3, 1], 3)], [1n, 1n, 1n, 1n, 0n, 0n, 1n, 1n]);
});

test("provider plan: auto uses CUDA only when installed; a forced provider has no fallback", () => {
  assert.deepEqual(planProviders("auto", false), { first: "cpu", fallbackToCpu: false });
  assert.deepEqual(planProviders("auto", true), { first: "cuda", fallbackToCpu: true });
  assert.deepEqual(planProviders("cuda", false), { first: "cuda", fallbackToCpu: false });
  assert.deepEqual(planProviders("cpu", true), { first: "cpu", fallbackToCpu: false });
});

test("reconnect backoff doubles up to its cap", () => {
  assert.deepEqual([0, 1, 2, 3, 10].map((n) => reconnectDelay(n, 1000, 5000)), [1000, 2000, 4000, 5000, 5000]);
});

test("chat format and request parsing defaults", () => {
  assert.equal(formatChat("pod-plain-v1", [{ role: "user", content: "Hi" }]).prompt, "User: Hi\nAssistant:");
  const parsed = parseInferenceRequest({ model: "m", prompt: ["one"], logprobs: 3 });
  assert.deepEqual(parsed.prompt, { kind: "text", text: "one" });
  assert.equal(parsed.params.topLogprobs, 3);
  assert.equal(parsed.params.temperature, 1);
  assert.equal(parsed.params.maxTokens, 64);
});
