/**
 * OpenAI response shapes built from the node's results (pure functions, no I/O).
 * Extension fields: `receipt` (the signed receipt) and `pod` (token ids, seed) on final objects.
 */
import type { InferenceResult, TokenLogprobWire } from "../../../sdk/src/nodeProtocol.ts";
import type { SignedReceipt } from "../../../sdk/src/receipt.ts";
import type { NodeError } from "../errors.ts";

export type Endpoint = "chat" | "completion";

const bytesOf = (text: string): number[] => [...new TextEncoder().encode(text)];

export function chatLogprobs(logprobs: readonly TokenLogprobWire[]) {
  return {
    content: logprobs.map((lp) => ({
      token: lp.text,
      logprob: lp.logprob,
      bytes: bytesOf(lp.text),
      top_logprobs: lp.top.map((t) => ({ token: t.text, logprob: t.logprob, bytes: bytesOf(t.text) })),
    })),
  };
}

export function completionLogprobs(logprobs: readonly TokenLogprobWire[]) {
  let offset = 0;
  const textOffset = logprobs.map((lp) => {
    const at = offset;
    offset += lp.text.length;
    return at;
  });
  return {
    tokens: logprobs.map((lp) => lp.text),
    token_logprobs: logprobs.map((lp) => lp.logprob),
    top_logprobs: logprobs.map((lp) => Object.fromEntries(lp.top.map((t) => [t.text, t.logprob]))),
    text_offset: textOffset,
  };
}

export function usageOf(result: InferenceResult) {
  const { promptTokens, completionTokens } = result.usage;
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export function podExtension(result: InferenceResult) {
  return { prompt_token_ids: result.promptTokenIds, output_token_ids: result.outputTokenIds, seed: result.seed, timings: result.timings };
}

export function finalResponse(endpoint: Endpoint, result: InferenceResult, receipt: SignedReceipt, withLogprobs: boolean, created: number) {
  const common = { id: result.requestId, created, model: result.model, usage: usageOf(result), receipt, pod: podExtension(result) };
  if (endpoint === "chat") {
    return {
      ...common,
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: result.text }, logprobs: withLogprobs ? chatLogprobs(result.logprobs) : null, finish_reason: result.finishReason }],
    };
  }
  return {
    ...common,
    object: "text_completion",
    choices: [{ index: 0, text: result.text, logprobs: withLogprobs ? completionLogprobs(result.logprobs) : null, finish_reason: result.finishReason }],
  };
}

/** One streamed delta. `token` carries the token's logprob entry when logprobs were asked for. */
export function streamChunk(endpoint: Endpoint, id: string, model: string, created: number, text: string, token: TokenLogprobWire | undefined, first: boolean) {
  if (endpoint === "chat") {
    return {
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta: first ? { role: "assistant", content: text } : { content: text }, logprobs: token === undefined ? null : chatLogprobs([token]), finish_reason: null }],
    };
  }
  return { id, object: "text_completion", created, model, choices: [{ index: 0, text, logprobs: token === undefined ? null : completionLogprobs([token]), finish_reason: null }] };
}

export function finishChunk(endpoint: Endpoint, result: InferenceResult, receipt: SignedReceipt, created: number) {
  const choice = endpoint === "chat" ? { index: 0, delta: {}, logprobs: null, finish_reason: result.finishReason } : { index: 0, text: "", logprobs: null, finish_reason: result.finishReason };
  return { id: result.requestId, object: endpoint === "chat" ? "chat.completion.chunk" : "text_completion", created, model: result.model, choices: [choice], receipt, pod: podExtension(result) };
}

export function usageChunk(endpoint: Endpoint, result: InferenceResult, created: number) {
  return { id: result.requestId, object: endpoint === "chat" ? "chat.completion.chunk" : "text_completion", created, model: result.model, choices: [], usage: usageOf(result) };
}

/** OpenAI's error body. */
export function errorBody(error: NodeError) {
  const param = "param" in error && typeof error.param === "string" ? error.param : null;
  const type = error.status >= 500 ? "server_error" : "invalid_request_error";
  return { error: { message: error.message, type, param, code: error.code } };
}
