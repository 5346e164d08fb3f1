/**
 * The OpenAI response shapes (pure): completion and chat objects, their streamed chunks, usage
 * and logprobs, built from the node's tokens and result.
 */
import type { TokenLogprobWire } from "../../../sdk/src/nodeProtocol.ts";
import type { Endpoint } from "./validate.ts";

export type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };
export type FinishReason = "stop" | "length";

/** What a response is built from: the same for a whole answer and for one streamed chunk. */
export type ResponseHead = { id: string; created: number; model: string; endpoint: Endpoint; logprobs: boolean; topLogprobs: number };

export const usageOf = (promptTokens: number, completionTokens: number): Usage => ({ prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens });

const bytesOf = (text: string): number[] => [...Buffer.from(text, "utf8")];

/** Chat's logprobs: one entry per token with its top alternatives. */
function chatLogprobs(tokens: readonly TokenLogprobWire[], top: number) {
  const entry = (t: { text: string; logprob: number }) => ({ token: t.text, logprob: t.logprob, bytes: bytesOf(t.text) });
  return { content: tokens.map((t) => ({ ...entry(t), top_logprobs: t.top.slice(0, top).map(entry) })), refusal: null };
}

/** Completions' legacy logprobs; text_offset counts characters from `offset` (the text before). */
function completionLogprobs(tokens: readonly TokenLogprobWire[], top: number, offset: number) {
  const text_offset: number[] = [];
  let at = offset;
  for (const t of tokens) {
    text_offset.push(at);
    at += t.text.length;
  }
  return {
    tokens: tokens.map((t) => t.text),
    token_logprobs: tokens.map((t) => t.logprob),
    top_logprobs: tokens.map((t) => Object.fromEntries(t.top.slice(0, top).map((a) => [a.text, a.logprob]))),
    text_offset,
  };
}

function logprobsOf(head: ResponseHead, tokens: readonly TokenLogprobWire[], offset: number) {
  if (!head.logprobs) return null;
  return head.endpoint === "chat" ? chatLogprobs(tokens, head.topLogprobs) : completionLogprobs(tokens, head.topLogprobs, offset);
}

/** The whole (non-streamed) answer. */
export function completionBody(head: ResponseHead, text: string, tokens: readonly TokenLogprobWire[], finish: FinishReason, usage: Usage) {
  const base = { id: head.id, created: head.created, model: head.model, system_fingerprint: null };
  const logprobs = logprobsOf(head, tokens, 0);
  if (head.endpoint === "chat") {
    return { ...base, object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs, finish_reason: finish }], usage };
  }
  return { ...base, object: "text_completion", choices: [{ index: 0, text, logprobs, finish_reason: finish }], usage };
}

/**
 * One streamed chunk: a token's text (with its logprobs), the final finish_reason, or (chat's
 * first chunk) the assistant role. `usage` is null on every chunk but the usage chunk when the
 * client asked for it, undefined (absent) otherwise.
 */
export function chunkBody(
  head: ResponseHead,
  delta: { text?: string; role?: true; tokens?: readonly TokenLogprobWire[]; offset?: number; finish?: FinishReason },
  usage: Usage | null | undefined,
) {
  const base = { id: head.id, created: head.created, model: head.model, system_fingerprint: null, ...(usage === undefined ? {} : { usage }) };
  const logprobs = delta.tokens === undefined ? null : logprobsOf(head, delta.tokens, delta.offset ?? 0);
  const finish_reason = delta.finish ?? null;
  if (head.endpoint === "chat") {
    const content = { ...(delta.role === true ? { role: "assistant" } : {}), ...(delta.text === undefined ? {} : { content: delta.text }) };
    return { ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: content, logprobs, finish_reason }] };
  }
  return { ...base, object: "text_completion", choices: [{ index: 0, text: delta.text ?? "", logprobs, finish_reason }] };
}

/** The last chunk when stream_options.include_usage is set: no choices, only usage. */
export function usageChunkBody(head: ResponseHead, usage: Usage) {
  return { id: head.id, created: head.created, model: head.model, system_fingerprint: null, object: head.endpoint === "chat" ? "chat.completion.chunk" : "text_completion", choices: [], usage };
}
