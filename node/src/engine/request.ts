/**
 * Validates an inference request from the outside (gateway job, local endpoint) into the
 * normalized form the engine runs. Every refusal is an InvalidRequestError naming the field.
 */
import { InvalidRequestError } from "../errors.ts";
import type { ChatMessage } from "./chat.ts";
import type { SamplingParams } from "../../../sdk/src/sampling.ts";

export const MAX_STOP_SEQUENCES = 4;
export const MAX_TOP_LOGPROBS = 20;
export const DEFAULT_MAX_TOKENS = 64;

export type PromptInput = { kind: "text"; text: string } | { kind: "chat"; messages: ChatMessage[] } | { kind: "tokens"; ids: number[] };

export type GenerationParams = SamplingParams & {
  /** Upper bound on output tokens (the context may cut earlier). */
  maxTokens: number;
  /** undefined: the node picks one and reports it. */
  seed: number | undefined;
  stop: string[];
  topLogprobs: number;
};

export type ParsedRequest = { model: string; prompt: PromptInput; params: GenerationParams };

type Obj = Record<string, unknown>;

function optionalNumber(o: Obj, key: string, check: (v: number) => boolean, rule: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || !check(v)) throw new InvalidRequestError(`${key} must be ${rule} (got ${JSON.stringify(v)})`, key);
  return v;
}

const isInt = (v: number): boolean => Number.isInteger(v);

function parsePrompt(o: Obj): PromptInput {
  const given = ["prompt", "messages", "prompt_token_ids"].filter((k) => o[k] !== undefined && o[k] !== null);
  if (given.length !== 1) throw new InvalidRequestError("exactly one of prompt, messages or prompt_token_ids is required", given[1] ?? "prompt");
  if (o.prompt !== undefined && o.prompt !== null) {
    // OpenAI allows a one-element array of strings; more than one prompt per request is not served.
    const prompt = Array.isArray(o.prompt) && o.prompt.length === 1 ? o.prompt[0] : o.prompt;
    if (typeof prompt !== "string") throw new InvalidRequestError("prompt must be a string", "prompt");
    if (prompt.length === 0) throw new InvalidRequestError("prompt must not be empty", "prompt");
    return { kind: "text", text: prompt };
  }
  if (o.messages !== undefined && o.messages !== null) {
    if (!Array.isArray(o.messages) || o.messages.length === 0) throw new InvalidRequestError("messages must be a non-empty array", "messages");
    const messages = o.messages.map((m: unknown, i): ChatMessage => {
      const msg = (typeof m === "object" && m !== null ? m : {}) as Obj;
      if (msg.role !== "system" && msg.role !== "user" && msg.role !== "assistant") throw new InvalidRequestError(`messages[${i}].role must be system, user or assistant`, "messages");
      const content = msg.content;
      if (typeof content === "string") return { role: msg.role, content };
      // Content parts: only text parts are served.
      if (Array.isArray(content) && content.every((p) => typeof p === "object" && p !== null && (p as Obj).type === "text" && typeof (p as Obj).text === "string")) {
        return { role: msg.role, content: content.map((p) => (p as Obj).text as string).join("") };
      }
      throw new InvalidRequestError(`messages[${i}].content must be a string or text parts`, "messages");
    });
    return { kind: "chat", messages };
  }
  const ids = o.prompt_token_ids;
  if (!Array.isArray(ids) || ids.length === 0) throw new InvalidRequestError("prompt_token_ids must be a non-empty array", "prompt_token_ids");
  if (!ids.every((t) => typeof t === "number" && Number.isInteger(t) && t >= 0)) throw new InvalidRequestError("prompt_token_ids must be non-negative integers", "prompt_token_ids");
  return { kind: "tokens", ids: ids as number[] };
}

function parseStop(o: Obj): string[] {
  const stop = o.stop;
  if (stop === undefined || stop === null) return [];
  const list = typeof stop === "string" ? [stop] : stop;
  if (!Array.isArray(list) || !list.every((s) => typeof s === "string" && s.length > 0)) throw new InvalidRequestError("stop must be a non-empty string or an array of them", "stop");
  if (list.length > MAX_STOP_SEQUENCES) throw new InvalidRequestError(`stop takes at most ${MAX_STOP_SEQUENCES} sequences`, "stop");
  return list as string[];
}

/** Validates untrusted input (OpenAI-style snake_case fields, see InferenceRequest in the SDK). */
export function parseInferenceRequest(raw: unknown): ParsedRequest {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new InvalidRequestError("request body must be a JSON object");
  const o = raw as Obj;
  if (typeof o.model !== "string" || o.model.length === 0) throw new InvalidRequestError("model is required", "model");
  const prompt = parsePrompt(o);
  const maxTokens = optionalNumber(o, "max_tokens", (v) => isInt(v) && v >= 1, "an integer >= 1") ?? optionalNumber(o, "max_completion_tokens", (v) => isInt(v) && v >= 1, "an integer >= 1");
  const temperature = optionalNumber(o, "temperature", (v) => v >= 0 && v <= 2, "between 0 and 2") ?? 1;
  const topP = optionalNumber(o, "top_p", (v) => v > 0 && v <= 1, "in (0, 1]") ?? 1;
  const topK = optionalNumber(o, "top_k", (v) => isInt(v) && v >= 0, "an integer >= 0") ?? 0;
  const seed = optionalNumber(o, "seed", (v) => isInt(v) && v >= 0 && v <= 0xffffffff, "an integer in [0, 2^32)");
  let topLogprobs = optionalNumber(o, "top_logprobs", (v) => isInt(v) && v >= 0 && v <= MAX_TOP_LOGPROBS, `an integer in [0, ${MAX_TOP_LOGPROBS}]`) ?? 0;
  if (o.logprobs !== undefined && o.logprobs !== null && typeof o.logprobs !== "boolean") {
    // Legacy completions: logprobs is the number of alternatives.
    topLogprobs = optionalNumber(o, "logprobs", (v) => isInt(v) && v >= 0 && v <= MAX_TOP_LOGPROBS, `a boolean or an integer in [0, ${MAX_TOP_LOGPROBS}]`) ?? topLogprobs;
  }
  const stop = parseStop(o);
  const params: GenerationParams = { maxTokens: maxTokens ?? DEFAULT_MAX_TOKENS, temperature, topP, topK, seed, stop, topLogprobs };
  return { model: o.model, prompt, params };
}
