/** The API's pure parts: request validation, the prompt bound of reservations, response shapes, error mapping. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiKeyError } from "../../sdk/src/apiKey.ts";
import { ApiError, parseCompletionRequest, promptTokenBound, RateLimiter, toApiError } from "../src/api/index.ts";
import { chunkBody, completionBody, usageOf, type ResponseHead } from "../src/api/shapes.ts";
import { toInferenceRequest } from "../src/api/validate.ts";
import { InsufficientCredit, KeyRejected } from "../src/credit/index.ts";
import { AllAttemptsFailed, DispatchAborted, JobRejected, MidStreamFailure, NoNodeForModel } from "../src/pool/index.ts";

const ZERO = `0x${"0".repeat(64)}` as const;

function refused(endpoint: "chat" | "completion", body: unknown, param: string | null, code: string | null = null) {
  assert.throws(
    () => parseCompletionRequest(endpoint, body),
    (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === param && e.code === code,
  );
}

test("validation: a chat request becomes the node's job with only the fields given", () => {
  const parsed = parseCompletionRequest("chat", {
    model: "m",
    messages: [{ role: "system", content: "be brief" }, { role: "user", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] }],
    max_tokens: 9,
    temperature: 0,
    stop: "\n",
    stream: true,
    stream_options: { include_usage: true },
    logprobs: true,
    top_logprobs: 2,
  });
  assert.deepEqual(parsed.input, { kind: "messages", messages: [{ role: "system", content: "be brief" }, { role: "user", content: "ab" }] });
  assert.deepEqual([parsed.stream, parsed.includeUsage, parsed.logprobs, parsed.topLogprobs, parsed.maxTokens], [true, true, true, 2, 9]);
  assert.deepEqual(toInferenceRequest(parsed, 9), { model: "m", messages: parsed.input.kind === "messages" ? parsed.input.messages : [], temperature: 0, stop: ["\n"], max_tokens: 9, top_logprobs: 2 });
  const completion = parseCompletionRequest("completion", { model: "m", prompt: ["one"], logprobs: 0, n: 1, user: "u" });
  assert.deepEqual(completion.input, { kind: "prompt", prompt: "one" });
  assert.deepEqual([completion.logprobs, completion.topLogprobs, completion.maxTokens], [true, 0, undefined]);
  refused("completion", { model: "m", prompt: "x", max_completion_tokens: 1 }, "max_completion_tokens", "unsupported_parameter");
});

test("validation: every unsupported or malformed field is refused by name", () => {
  refused("chat", [], null);
  refused("chat", { messages: [{ role: "user", content: "x" }] }, "model");
  refused("chat", { model: "m", messages: [{ role: "tool", content: "x" }] }, "messages[0].role");
  refused("chat", { model: "m", messages: [{ role: "user", content: [{ type: "image_url" }] }] }, "messages[0].content");
  refused("chat", { model: "m", messages: [{ role: "user", content: "x", tool_calls: [] }] }, "messages[0]");
  refused("chat", { model: "m", messages: [{ role: "user", content: "x" }], tools: [] }, "tools", "unsupported_parameter");
  refused("chat", { model: "m", messages: [{ role: "user", content: "x" }], top_logprobs: 2 }, "top_logprobs");
  refused("chat", { model: "m", messages: [{ role: "user", content: "x" }], logprobs: true, top_logprobs: 21 }, "top_logprobs");
  refused("chat", { model: "m", messages: [{ role: "user", content: "x" }], stream_options: { include_usage: true } }, "stream_options");
  refused("chat", { model: "m", messages: [{ role: "user", content: "x" }], max_tokens: 0 }, "max_tokens");
  refused("chat", { model: "m", messages: [{ role: "user", content: "x" }], seed: -1 }, "seed");
  refused("chat", { model: "m", messages: [{ role: "user", content: "x" }], stop: ["a", "b", "c", "d", "e"] }, "stop");
  refused("chat", { model: "m", messages: [{ role: "user", content: "x" }], presence_penalty: 0.5 }, "presence_penalty", "unsupported_value");
  refused("completion", { model: "m", prompt: ["a", "b"] }, "prompt");
  refused("completion", { model: "m", prompt: "a", echo: true }, "echo", "unsupported_value");
  refused("completion", { model: "m", prompt: "a", logprobs: true }, "logprobs");
});

test("reservation bound: UTF-8 bytes (plus the chat template per message), never past the context", () => {
  const model = { id: "m", nodes: 1, contextLength: 100 };
  assert.equal(promptTokenBound(parseCompletionRequest("completion", { model: "m", prompt: "héllo" }), model, 16), 6);
  assert.equal(promptTokenBound(parseCompletionRequest("chat", { model: "m", messages: [{ role: "user", content: "hi" }] }), model, 16), 2 + 16 + 16);
  assert.equal(promptTokenBound(parseCompletionRequest("completion", { model: "m", prompt: "x".repeat(500) }), model, 16), 99);
});

test("shapes: completion and chat bodies and chunks follow OpenAI's", () => {
  const tokens = [{ tokenId: 1, text: "Hé", logprob: -0.5, top: [{ tokenId: 1, text: "Hé", logprob: -0.5 }, { tokenId: 2, text: "x", logprob: -1 }] }];
  const head: ResponseHead = { id: "id", created: 1, model: "m", endpoint: "completion", logprobs: true, topLogprobs: 1 };
  const body = completionBody(head, "Hé", tokens, "length", usageOf(3, 1));
  assert.deepEqual(body.choices[0], { index: 0, text: "Hé", finish_reason: "length", logprobs: { tokens: ["Hé"], token_logprobs: [-0.5], top_logprobs: [{ Hé: -0.5 }], text_offset: [0] } });
  assert.deepEqual(body.usage, { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 });
  const chat = completionBody({ ...head, endpoint: "chat" }, "Hé", tokens, "stop", usageOf(3, 1));
  assert.deepEqual(chat.choices[0], {
    index: 0,
    message: { role: "assistant", content: "Hé", refusal: null },
    finish_reason: "stop",
    logprobs: { content: [{ token: "Hé", logprob: -0.5, bytes: [72, 195, 169], top_logprobs: [{ token: "Hé", logprob: -0.5, bytes: [72, 195, 169] }] }], refusal: null },
  });
  const chunk = chunkBody({ ...head, endpoint: "chat", logprobs: false }, { text: "a" }, null);
  assert.deepEqual([chunk.object, chunk.usage, chunk.choices[0]], ["chat.completion.chunk", null, { index: 0, delta: { content: "a" }, logprobs: null, finish_reason: null }]);
  assert.equal("usage" in chunkBody(head, { text: "a", tokens, offset: 4 }, undefined), false);
  assert.deepEqual(chunkBody(head, { text: "a", tokens, offset: 4 }, undefined).choices[0]?.logprobs, { tokens: ["Hé"], token_logprobs: [-0.5], top_logprobs: [{ Hé: -0.5 }], text_offset: [4] });
});

test("errors: each component's typed error maps to its status, type and code", () => {
  const map = (e: unknown) => {
    const a = toApiError(e);
    return [a.status, a.body.error.type, a.body.error.code];
  };
  assert.deepEqual(map(new ApiKeyError("malformed", "bad")), [401, "authentication_error", "invalid_api_key"]);
  assert.deepEqual(map(new KeyRejected("revoked", ZERO, "revoked")), [401, "authentication_error", "key_revoked"]);
  assert.deepEqual(map(new InsufficientCredit("cap", ZERO, 2n, 1n)), [402, "insufficient_quota", "grant_cap_exceeded"]);
  assert.deepEqual(map(new InsufficientCredit("balance", ZERO, 2n, 1n)), [402, "insufficient_quota", "insufficient_credit"]);
  assert.deepEqual(map(new NoNodeForModel("m", false)), [503, "server_error", "no_node_available"]);
  assert.deepEqual(map(new AllAttemptsFailed("m", [])), [502, "server_error", "upstream_failed"]);
  assert.deepEqual(map(new MidStreamFailure(ZERO.slice(0, 42) as `0x${string}`, "disconnected", "gone", [])), [502, "server_error", "node_failed"]);
  assert.deepEqual(map(new JobRejected("context_length_exceeded", "too long")), [400, "invalid_request_error", "context_length_exceeded"]);
  assert.deepEqual(map(new DispatchAborted()), [400, "invalid_request_error", "client_closed"]);
  const internal = toApiError(new Error("secret detail"));
  assert.deepEqual([internal.status, internal.message.includes("secret")], [500, false]);
});

test("rate limit: a burst, then one request per refill interval; full buckets are forgotten when the map grows", () => {
  let now = 0;
  const limiter = new RateLimiter({ requestsPerMinute: 60, burst: 2 }, () => now, 2);
  assert.deepEqual([limiter.take("a"), limiter.take("a"), limiter.take("a")], [0, 0, 1000]);
  now += 500;
  assert.equal(limiter.take("a"), 500);
  now += 500;
  assert.equal(limiter.take("a"), 0);
  assert.equal(limiter.take("b"), 0, "keys have their own buckets");
  now += 10_000;
  limiter.take("c");
  assert.equal(limiter.tracked, 1, "a and b had refilled: forgotten");
  assert.throws(() => new RateLimiter({ requestsPerMinute: 0, burst: 1 }), RangeError);
});
