import { test, before } from "node:test";
import assert from "node:assert/strict";
import { ContextLengthError, InvalidRequestError, ModelNotFoundError } from "../src/errors.ts";
import { logSumExp } from "../../sdk/src/sampling.ts";
import type { NodeService } from "../src/service.ts";
import type { LoadedModel } from "../src/model/load.ts";
import { TINY, tinyService } from "./fixtures.ts";

let service: NodeService;
let model: LoadedModel;
before(async () => {
  ({ service, model } = await tinyService());
});

const run = (body: Record<string, unknown>) => service.run({ model: TINY, ...body });

test("cached generation equals an uncached recomputation of the whole sequence", async () => {
  const { result } = await run({ prompt: "The network pays nodes for tokens", max_tokens: 24, temperature: 0, top_logprobs: 3 });
  const ids = [...result.promptTokenIds, ...result.outputTokenIds];
  // One prefill over prompt + output, no KV cache: logits at position i predict token i + 1.
  const full = await model.decoder.prefill([ids]);
  const V = model.decoder.vocabSize;
  const P = result.promptTokenIds.length;
  result.outputTokenIds.forEach((token, k) => {
    const offset = (P - 1 + k) * V;
    let best = 0;
    for (let v = 1; v < V; v++) if (full.logits[offset + v]! > full.logits[offset + best]!) best = v;
    assert.equal(token, best, `token ${k} is the uncached argmax`);
    const uncached = full.logits[offset + token]! - logSumExp(full.logits, offset, V);
    assert.ok(Math.abs(uncached - result.logprobs[k]!.logprob) < 1e-4, `logprob ${k}: ${uncached} vs ${result.logprobs[k]!.logprob}`);
  });
});

test("logprobs are a log-softmax: the full distribution sums to 1 and top alternatives are ordered", async () => {
  const { result } = await run({ prompt: "Validators re-run samples", max_tokens: 4, temperature: 0, top_logprobs: 5 });
  const full = await model.decoder.prefill([result.promptTokenIds]);
  const V = model.decoder.vocabSize;
  const offset = (result.promptTokenIds.length - 1) * V;
  const lse = logSumExp(full.logits, offset, V);
  let total = 0;
  for (let v = 0; v < V; v++) total += Math.exp(full.logits[offset + v]! - lse);
  assert.ok(Math.abs(total - 1) < 1e-6);
  for (const lp of result.logprobs) {
    assert.ok(lp.logprob <= 0);
    assert.equal(lp.top.length, 5);
    assert.equal(lp.top[0]!.tokenId, lp.tokenId, "greedy picks the top alternative");
    for (let i = 1; i < lp.top.length; i++) assert.ok(lp.top[i - 1]!.logprob >= lp.top[i]!.logprob);
    assert.ok(lp.top.reduce((s, t) => s + Math.exp(t.logprob), 0) <= 1 + 1e-6);
  }
});

test("greedy output is deterministic", async () => {
  const a = await run({ prompt: "Deterministic", max_tokens: 16, temperature: 0 });
  const b = await run({ prompt: "Deterministic", max_tokens: 16, temperature: 0 });
  assert.deepEqual(a.result.outputTokenIds, b.result.outputTokenIds);
  assert.deepEqual(a.result.logprobs.map((l) => l.logprob), b.result.logprobs.map((l) => l.logprob));
});

test("seeded sampling reproduces; another seed differs; top_k / top_p restrict the choice", async () => {
  const body = { prompt: "Sampling with a seed", max_tokens: 24, temperature: 1.2, top_p: 0.95, top_k: 50 };
  const a = await run({ ...body, seed: 7 });
  const b = await run({ ...body, seed: 7 });
  const c = await run({ ...body, seed: 8 });
  assert.deepEqual(a.result.outputTokenIds, b.result.outputTokenIds);
  assert.notDeepEqual(a.result.outputTokenIds, c.result.outputTokenIds);
  assert.equal(a.result.seed, 7);
  const k1 = await run({ prompt: "Sampling with a seed", max_tokens: 8, temperature: 1, top_k: 1, seed: 3, top_logprobs: 1 });
  for (const lp of k1.result.logprobs) assert.equal(lp.tokenId, lp.top[0]!.tokenId, "top_k 1 is greedy");
  const p0 = await run({ prompt: "Sampling with a seed", max_tokens: 8, temperature: 1, top_p: 1e-9, seed: 3, top_logprobs: 1 });
  for (const lp of p0.result.logprobs) assert.equal(lp.tokenId, lp.top[0]!.tokenId, "a tiny top_p keeps only the best token");
});

test("max_tokens and stop sequences are honoured, also when streaming", async () => {
  const limited = await run({ prompt: "Count", max_tokens: 5, temperature: 0 });
  assert.equal(limited.result.outputTokenIds.length, 5);
  assert.equal(limited.result.finishReason, "length");

  const free = await run({ prompt: "Stop here", max_tokens: 12, temperature: 0 });
  const stopText = free.result.text.slice(4, 9);
  const streamed: string[] = [];
  const stopped = await service.run({ model: TINY, prompt: "Stop here", max_tokens: 12, temperature: 0, stop: [stopText] }, { onToken: (t) => streamed.push(t.text) });
  assert.equal(stopped.result.finishReason, "stop");
  assert.equal(stopped.result.text, free.result.text.slice(0, free.result.text.indexOf(stopText)));
  assert.ok(!stopped.result.text.includes(stopText));
  assert.equal(streamed.join(""), stopped.result.text, "streamed deltas add up to the text and never show the stop");
  assert.equal(streamed.length, stopped.result.outputTokenIds.length, "one event per token");
});

test("chat messages are formatted with the manifest's chat format", async () => {
  const { result } = await run({ messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }], max_tokens: 3, temperature: 0 });
  assert.equal(model.tokenizer.decode(result.promptTokenIds), "System: Be brief.\nUser: Hi\nAssistant:");
});

test("concurrent requests share forward passes (continuous batching)", async () => {
  const before = { ...model.decoder.counters };
  const outs = await Promise.all(Array.from({ length: 6 }, (_, i) => run({ prompt: `Request ${i} shares the batch`, max_tokens: 10 + i, temperature: 0 })));
  const tokens = outs.reduce((n, o) => n + o.result.outputTokenIds.length, 0);
  const passes = model.decoder.counters.forwardPasses - before.forwardPasses;
  const rows = model.decoder.counters.decodeRows - before.decodeRows;
  const steps = model.decoder.counters.decodeSteps - before.decodeSteps;
  assert.ok(passes < tokens / 2, `${passes} forward passes for ${tokens} tokens`);
  assert.ok(rows / steps > 3, `average decode batch ${rows / steps}`);
  assert.ok(model.decoder.counters.maxDecodeBatch >= 6);
  // Batched results match the same requests run alone (greedy; logprobs within float noise).
  const alone = await run({ prompt: "Request 3 shares the batch", max_tokens: 13, temperature: 0 });
  assert.deepEqual(alone.result.outputTokenIds, outs[3]!.result.outputTokenIds);
  alone.result.logprobs.forEach((lp, i) => assert.ok(Math.abs(lp.logprob - outs[3]!.result.logprobs[i]!.logprob) < 1e-4));
});

test("bad requests get clear typed errors", async () => {
  await assert.rejects(run({ prompt: "", max_tokens: 4 }), (e: unknown) => e instanceof InvalidRequestError && e.param === "prompt" && /empty/.test(e.message));
  await assert.rejects(run({ prompt: "x", max_tokens: -1 }), (e: unknown) => e instanceof InvalidRequestError && e.param === "max_tokens");
  await assert.rejects(run({ prompt: "x", max_tokens: 1.5 }), InvalidRequestError);
  await assert.rejects(service.run({ model: "no-such-model", prompt: "x" }), (e: unknown) => e instanceof ModelNotFoundError && /no-such-model/.test(e.message) && e.status === 404);
  await assert.rejects(run({ prompt: "x", temperature: 3 }), (e: unknown) => e instanceof InvalidRequestError && e.param === "temperature");
  await assert.rejects(run({ prompt: "x", top_p: 0 }), InvalidRequestError);
  await assert.rejects(run({ prompt: "x", stop: ["a", "b", "c", "d", "e"] }), InvalidRequestError);
  await assert.rejects(run({ prompt: "x", messages: [{ role: "user", content: "y" }] }), InvalidRequestError);
  await assert.rejects(run({ messages: [{ role: "robot", content: "y" }] }), InvalidRequestError);
  await assert.rejects(run({ prompt_token_ids: [1, 2, 99999] }), InvalidRequestError);
  await assert.rejects(run({ prompt_token_ids: Array(600).fill(1) }), ContextLengthError);
  await assert.rejects(service.run("not an object"), InvalidRequestError);
});

test("a cancelled request stops and frees its slot", async () => {
  const abort = new AbortController();
  const running = service.run({ model: TINY, prompt: "Long", max_tokens: 400, temperature: 0 }, { onToken: (t) => t.index === 3 && abort.abort(), signal: abort.signal });
  await assert.rejects(running, /cancelled/);
  const after = await run({ prompt: "Next", max_tokens: 2, temperature: 0 });
  assert.equal(after.result.outputTokenIds.length, 2);
});

test("context length ends generation with finish_reason length", async () => {
  const ids = Array.from({ length: 509 }, (_, i) => 100 + (i % 50));
  const { result } = await run({ prompt_token_ids: ids, max_tokens: 50, temperature: 0 });
  assert.equal(result.outputTokenIds.length, 3);
  assert.equal(result.finishReason, "length");
});
