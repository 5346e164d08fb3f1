/**
 * Strict validation of the OpenAI request bodies the gateway serves. Unknown fields and
 * features the network does not serve (n > 1, tools, echo, ...) are refused with a 400 naming
 * the field, so a client never silently gets something other than what it asked for.
 */
import type { InferenceRequest } from "../../../sdk/src/nodeProtocol.ts";
import { invalidRequest } from "./errors.ts";

export const MAX_TOP_LOGPROBS = 20;
export const MAX_STOP_SEQUENCES = 4;

export type Endpoint = "chat" | "completion";

export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };

/** A validated request: what the node gets, and how the answer is shaped. */
export type ParsedCompletionRequest = {
  endpoint: Endpoint;
  model: string;
  /** Chat: the messages; completion: the prompt. */
  input: { kind: "messages"; messages: ChatMessage[] } | { kind: "prompt"; prompt: string };
  maxTokens: number | undefined;
  sampling: { temperature?: number; top_p?: number; top_k?: number; seed?: number; stop?: string[] };
  stream: boolean;
  includeUsage: boolean;
  /** Whether logprobs are returned, and how many alternatives per token. */
  logprobs: boolean;
  topLogprobs: number;
  /** Only nodes whose account has an active bond (the request's bonded_only). */
  bondedOnly: boolean;
};

type Obj = Record<string, unknown>;

/** bonded_only is the network's extension: only nodes whose account has an active bond serve it. */
const COMMON_FIELDS = ["bonded_only", "model", "max_tokens", "temperature", "top_p", "top_k", "seed", "stop", "stream", "stream_options", "n", "user", "presence_penalty", "frequency_penalty"];
const FIELDS: Record<Endpoint, ReadonlySet<string>> = {
  chat: new Set([...COMMON_FIELDS, "messages", "max_completion_tokens", "logprobs", "top_logprobs"]),
  completion: new Set([...COMMON_FIELDS, "prompt", "logprobs", "echo"]),
};

export function parseCompletionRequest(endpoint: Endpoint, raw: unknown): ParsedCompletionRequest {
  if (!isObject(raw)) throw invalidRequest("the request body must be a JSON object");
  for (const key of Object.keys(raw)) if (!FIELDS[endpoint].has(key)) throw invalidRequest(`unsupported field ${JSON.stringify(key)}`, key, "unsupported_parameter");
  const model = raw.model;
  if (typeof model !== "string" || model.length === 0) throw invalidRequest("model is required", "model");

  const n = optionalNumber(raw, "n", isPositiveInt, "an integer >= 1");
  if (n !== undefined && n !== 1) throw invalidRequest("only n = 1 is served", "n", "unsupported_value");
  for (const key of ["presence_penalty", "frequency_penalty"]) {
    if (optionalNumber(raw, key, () => true, "a number") ?? 0) throw invalidRequest(`${key} is not served (only 0)`, key, "unsupported_value");
  }
  if (raw.user !== undefined && typeof raw.user !== "string") throw invalidRequest("user must be a string", "user");
  if (raw.echo !== undefined && raw.echo !== null && raw.echo !== false) throw invalidRequest("echo is not served", "echo", "unsupported_value");

  const input = endpoint === "chat" ? { kind: "messages" as const, messages: parseMessages(raw.messages) } : { kind: "prompt" as const, prompt: parsePrompt(raw.prompt) };
  const maxTokens = optionalNumber(raw, "max_tokens", isPositiveInt, "an integer >= 1") ?? optionalNumber(raw, "max_completion_tokens", isPositiveInt, "an integer >= 1");

  const temperature = optionalNumber(raw, "temperature", (v) => v >= 0 && v <= 2, "between 0 and 2");
  const top_p = optionalNumber(raw, "top_p", (v) => v > 0 && v <= 1, "in (0, 1]");
  const top_k = optionalNumber(raw, "top_k", (v) => Number.isInteger(v) && v >= 0, "an integer >= 0");
  const seed = optionalNumber(raw, "seed", (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, "an integer in [0, 2^32)");
  const stop = parseStop(raw.stop);
  const sampling = { ...defined({ temperature, top_p, top_k, seed }), ...(stop === undefined ? {} : { stop }) };

  const stream = optionalBoolean(raw, "stream") ?? false;
  let includeUsage = false;
  if (raw.stream_options !== undefined && raw.stream_options !== null) {
    if (!stream) throw invalidRequest("stream_options is only allowed with stream: true", "stream_options");
    if (!isObject(raw.stream_options)) throw invalidRequest("stream_options must be an object", "stream_options");
    for (const key of Object.keys(raw.stream_options)) if (key !== "include_usage") throw invalidRequest(`unsupported field stream_options.${key}`, "stream_options");
    includeUsage = optionalBoolean(raw.stream_options, "include_usage") ?? false;
  }

  let logprobs: boolean;
  let topLogprobs: number;
  const topRule = `an integer in [0, ${MAX_TOP_LOGPROBS}]`;
  const isTopCount = (v: number) => Number.isInteger(v) && v >= 0 && v <= MAX_TOP_LOGPROBS;
  if (endpoint === "chat") {
    logprobs = optionalBoolean(raw, "logprobs") ?? false;
    const top = optionalNumber(raw, "top_logprobs", isTopCount, topRule);
    if (top !== undefined && !logprobs) throw invalidRequest("top_logprobs requires logprobs: true", "top_logprobs");
    topLogprobs = top ?? 0;
  } else {
    // Completions' legacy logprobs: the number of alternatives per token (0 still returns logprobs).
    const top = optionalNumber(raw, "logprobs", isTopCount, topRule);
    logprobs = top !== undefined;
    topLogprobs = top ?? 0;
  }
  const bondedOnly = optionalBoolean(raw, "bonded_only") ?? false;
  return { endpoint, model, input, maxTokens, sampling, stream, includeUsage, logprobs, topLogprobs, bondedOnly };
}

/** The node's job for a validated request, with the max_tokens the reservation was made for. */
export function toInferenceRequest(parsed: ParsedCompletionRequest, maxTokens: number): InferenceRequest {
  const input = parsed.input.kind === "messages" ? { messages: parsed.input.messages } : { prompt: parsed.input.prompt };
  return { model: parsed.model, ...input, ...parsed.sampling, max_tokens: maxTokens, ...(parsed.topLogprobs > 0 ? { top_logprobs: parsed.topLogprobs } : {}) };
}

function parseMessages(raw: unknown): ChatMessage[] {
  if (!Array.isArray(raw) || raw.length === 0) throw invalidRequest("messages must be a non-empty array", "messages");
  return raw.map((m: unknown, i): ChatMessage => {
    const param = `messages[${i}]`;
    if (!isObject(m)) throw invalidRequest(`${param} must be an object`, param);
    for (const key of Object.keys(m)) if (key !== "role" && key !== "content" && key !== "name") throw invalidRequest(`unsupported field ${param}.${key}`, param);
    const role = m.role;
    if (role !== "system" && role !== "user" && role !== "assistant") throw invalidRequest(`${param}.role must be system, user or assistant`, `${param}.role`);
    const content = m.content;
    if (typeof content === "string") return { role, content };
    // Content parts: only text parts are served.
    if (Array.isArray(content) && content.length > 0 && content.every((p: unknown) => isObject(p) && p.type === "text" && typeof p.text === "string")) {
      return { role, content: content.map((p: Obj) => p.text as string).join("") };
    }
    throw invalidRequest(`${param}.content must be a string or text parts`, `${param}.content`);
  });
}

function parsePrompt(raw: unknown): string {
  // OpenAI allows an array of prompts; one prompt per request is served.
  const prompt = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  if (typeof prompt !== "string" || prompt.length === 0) throw invalidRequest("prompt must be a non-empty string", "prompt");
  return prompt;
}

function parseStop(raw: unknown): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const list = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(list) || !list.every((s) => typeof s === "string" && s.length > 0)) throw invalidRequest("stop must be a non-empty string or an array of them", "stop");
  if (list.length > MAX_STOP_SEQUENCES) throw invalidRequest(`stop takes at most ${MAX_STOP_SEQUENCES} sequences`, "stop");
  return list as string[];
}

const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isPositiveInt = (v: number) => Number.isInteger(v) && v >= 1;

function optionalNumber(o: Obj, key: string, check: (v: number) => boolean, rule: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || !check(v)) throw invalidRequest(`${key} must be ${rule} (got ${JSON.stringify(v)})`, key);
  return v;
}

function optionalBoolean(o: Obj, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw invalidRequest(`${key} must be a boolean`, key);
  return v;
}

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
