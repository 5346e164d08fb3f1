import { test, before } from "node:test";
import assert from "node:assert/strict";
import type { Hono } from "hono";
import { verifyReceipt, type SignedReceipt } from "../../sdk/src/receipt.ts";
import { createLocalApp } from "../src/server/local.ts";
import type { NodeService } from "../src/service.ts";
import { TINY, tinyService } from "./fixtures.ts";

let app: Hono;
let service: NodeService;
before(async () => {
  ({ service } = await tinyService());
  app = createLocalApp(service);
});

const post = (path: string, body: unknown) => app.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

function sseEvents(text: string): string[] {
  return text.split("\n\n").map((block) => block.trim()).filter((b) => b.startsWith("data: ")).map((b) => b.slice(6));
}

test("GET /v1/models lists the served model", async () => {
  const res = await app.request("/v1/models");
  assert.equal(res.status, 200);
  const body = (await res.json()) as { object: string; data: { id: string; object: string }[] };
  assert.equal(body.object, "list");
  assert.deepEqual(body.data.map((m) => [m.id, m.object]), [[TINY, "model"]]);
});

test("POST /v1/completions answers in OpenAI shape with usage, logprobs and a valid receipt", async () => {
  const res = await post("/v1/completions", { model: TINY, prompt: "Hello", max_tokens: 4, temperature: 0, logprobs: 2 });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { object: string; choices: { text: string; finish_reason: string; logprobs: { tokens: string[]; token_logprobs: number[]; top_logprobs: Record<string, number>[] } }[]; usage: { completion_tokens: number; total_tokens: number; prompt_tokens: number }; receipt: SignedReceipt };
  assert.equal(body.object, "text_completion");
  assert.equal(body.choices[0]!.finish_reason, "length");
  assert.equal(body.usage.completion_tokens, 4);
  assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + 4);
  assert.equal(body.choices[0]!.logprobs.token_logprobs.length, 4);
  assert.equal(body.choices[0]!.logprobs.tokens.join(""), body.choices[0]!.text);
  assert.equal((await verifyReceipt(body.receipt, { expectedSigner: service.account.address })).valid, true);
});

test("POST /v1/chat/completions answers with an assistant message", async () => {
  const res = await post("/v1/chat/completions", { model: TINY, messages: [{ role: "user", content: "Hi" }], max_tokens: 3, temperature: 0, logprobs: true, top_logprobs: 2 });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { object: string; choices: { message: { role: string; content: string }; logprobs: { content: { top_logprobs: unknown[] }[] } }[] };
  assert.equal(body.object, "chat.completion");
  assert.equal(body.choices[0]!.message.role, "assistant");
  assert.equal(body.choices[0]!.logprobs.content.length, 3);
  assert.equal(body.choices[0]!.logprobs.content[0]!.top_logprobs.length, 2);
});

test("streaming: SSE chunks token by token, a finish chunk with the receipt, usage, then [DONE]", async () => {
  const plain = (await (await post("/v1/chat/completions", { model: TINY, messages: [{ role: "user", content: "Stream" }], max_tokens: 6, temperature: 0 })).json()) as { choices: { message: { content: string } }[] };
  const res = await post("/v1/chat/completions", { model: TINY, messages: [{ role: "user", content: "Stream" }], max_tokens: 6, temperature: 0, stream: true, stream_options: { include_usage: true } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  const events = sseEvents(await res.text());
  assert.equal(events.at(-1), "[DONE]");
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: { delta?: { content?: string }; finish_reason: string | null }[]; usage?: { completion_tokens: number }; receipt?: SignedReceipt });
  const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta?.content ?? "")).join("");
  assert.equal(text, plain.choices[0]!.message.content);
  const finish = chunks.find((c) => c.choices[0]?.finish_reason !== null && c.choices.length > 0);
  assert.equal(finish?.choices[0]!.finish_reason, "length");
  assert.equal((await verifyReceipt(finish!.receipt!)).valid, true);
  assert.equal(chunks.at(-1)!.usage!.completion_tokens, 6);
});

test("errors: OpenAI error shape with 400 / 404 and the offending param", async () => {
  const empty = await post("/v1/completions", { model: TINY, prompt: "" });
  assert.equal(empty.status, 400);
  assert.deepEqual(((await empty.json()) as { error: { param: string; code: string } }).error.param, "prompt");
  const negative = await post("/v1/completions", { model: TINY, prompt: "x", max_tokens: -3 });
  assert.equal(negative.status, 400);
  assert.match(((await negative.json()) as { error: { message: string } }).error.message, /max_tokens/);
  const unknown = await post("/v1/chat/completions", { model: "gpt-4", messages: [{ role: "user", content: "x" }], stream: true });
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, "model_not_found");
  const notJson = await app.request("/v1/completions", { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
  assert.equal(notJson.status, 400);
  // A web page's "simple" request (no JSON content type) and a rebinding host are refused.
  const simple = await app.request("/v1/completions", { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ model: TINY, prompt: "x" }) });
  assert.equal(simple.status, 400);
  assert.match(((await simple.json()) as { error: { message: string } }).error.message, /content-type/);
  const rebound = await app.request("/v1/models", { headers: { host: "attacker.example:8080" } });
  assert.equal(rebound.status, 403);
  assert.equal((await app.request("/v1/models", { headers: { host: "127.0.0.1:8080" } })).status, 200);
  const huge = await post("/v1/completions", { model: TINY, prompt: "x".repeat(5 * 1024 * 1024) });
  assert.equal(huge.status, 400);
  assert.equal((await app.request("/v2/nothing")).status, 404);
});

test("/metrics exposes Prometheus counters; /health reports the node", async () => {
  const metrics = await (await app.request("/metrics")).text();
  assert.match(metrics, /# TYPE pod_node_forward_passes_total counter/);
  assert.match(metrics, /pod_node_requests_total\{model="pod-gpt2-tiny",status="200"\} \d+/);
  const health = (await (await app.request("/health")).json()) as { status: string; node: string };
  assert.deepEqual(health, { status: "ok", node: service.account.address, models: [TINY] });
});

test("draining: in-flight requests finish, new ones get 503", async () => {
  const inflight = post("/v1/completions", { model: TINY, prompt: "Finish me", max_tokens: 20, temperature: 0 });
  await new Promise((r) => setTimeout(r, 20));
  const drained = service.drain();
  const refused = await post("/v1/completions", { model: TINY, prompt: "Too late", max_tokens: 2 });
  assert.equal(refused.status, 503);
  const done = await inflight;
  assert.equal(done.status, 200);
  await drained;
});
