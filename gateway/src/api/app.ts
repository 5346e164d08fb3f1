/**
 * The gateway's OpenAI-compatible HTTP API (hono). Pure wiring: the pool, the credit guard and
 * the receipts store are injected. A request is authenticated by its API key, validated, priced
 * at its maximum (prompt bound + max_tokens) and reserved, then dispatched; the reservation is
 * committed at the actual cost with the receipt stored before the response ends, or released.
 */
import { randomUUID } from "node:crypto";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Address } from "viem";
import type { ParsedApiKey } from "../../../sdk/src/apiKey.ts";
import type { CreditGuard } from "../credit/index.ts";
import { AllAttemptsFailed, DispatchAborted, NoNodeForModel, type DispatchEvent, type ModelInfo, type NodePool } from "../pool/index.ts";
import { RecentResponses, shouldSample, type JsonValue, type ReceiptStore, type RecentResponsesOptions, type SampledRequest } from "../store/index.ts";
import { RequestBilling, type ApiLogger, type BillingDeps } from "./billing.ts";
import { ApiError, invalidRequest, rateLimited, toApiError } from "./errors.ts";
import { addEpochRoutes } from "./epochs.ts";
import { addSampleRoutes } from "./samples.ts";
import { addFlagRoutes } from "./flags.ts";
import { ApiKeyVerifier } from "./keys.ts";
import { ApiMetrics } from "./metrics.ts";
import { RateLimiter, type RateLimitConfig } from "./rateLimit.ts";
import { completionBody, type ResponseHead } from "./shapes.ts";
import { sseResponse } from "./stream.ts";
import { parseCompletionRequest, toInferenceRequest, type Endpoint, type ParsedCompletionRequest } from "./validate.ts";

export type ApiConfig = {
  chainId: number;
  /** The CreditVault keys must be signed for. */
  vault: Address;
  /** This gateway's address: keys granting another gateway are refused. */
  gateway: Address;
  /** The settlement epoch a completion at `unixMs` belongs to. */
  epochAt: (unixMs: number) => number;
  /** max_tokens when a request gives none (capped by the model's context). */
  defaultMaxTokens: number;
  maxBodyBytes: number;
  keyCacheEntries: number;
  /** Chat templates add tokens around each message; this bounds them for the reservation. */
  chatTemplateTokensPerMessage: number;
  /** Keyed sampling of requests for validators (store/sampling.ts); none when absent. */
  sampling?: { salt: string; ratePpm: number };
  /** How many unsampled responses (and for how long) keep their pair in memory for a user's flag. */
  recentResponses: RecentResponsesOptions;
  /** When set, GET /v1/epochs/:n/{receipts,usage} and /v1/samples need `Authorization: Bearer <receiptsToken>`. */
  receiptsToken?: string;
  /** Per-key request rate; none when absent. */
  rateLimit?: RateLimitConfig;
  now: () => number;
  log: ApiLogger;
};

export type ApiDeps = {
  pool: Pick<NodePool, "dispatch" | "models" | "nodes" | "metrics">;
  credit: Pick<CreditGuard, "quote" | "reserve" | "commit" | "release">;
  /** Without samplesSince and receipt, GET /v1/samples answers 404. */
  store: Pick<ReceiptStore, "insert" | "rememberGrant" | "receiptsOfEpoch" | "usageByGrant"> & Partial<Pick<ReceiptStore, "samplesSince" | "receipt">>;
  config: Pick<ApiConfig, "chainId" | "vault" | "gateway" | "epochAt"> & Partial<ApiConfig>;
};

export const API_DEFAULTS = {
  defaultMaxTokens: 256,
  maxBodyBytes: 1024 * 1024,
  keyCacheEntries: 10_000,
  chatTemplateTokensPerMessage: 16,
  recentResponses: { maxEntries: 2_000, maxAgeMs: 10 * 60_000 },
} as const;

/** The header form of the request's bonded_only (for clients that cannot add body fields). */
export const BONDED_ONLY_HEADER = "x-pod-bonded-only";
const isTrue = (header: string | undefined) => header !== undefined && /^(1|true)$/i.test(header.trim());

const ENDPOINTS: ReadonlySet<string> = new Set(["/v1/models", "/v1/completions", "/v1/chat/completions"]);

export function createApp(deps: ApiDeps): Hono {
  const config: ApiConfig = { ...API_DEFAULTS, now: Date.now, log: () => {}, ...deps.config };
  const { pool, credit, store } = deps;
  // A bad salt or rate fails here, at startup, rather than on every request.
  if (config.sampling !== undefined) shouldSample(config.sampling.salt, "", config.sampling.ratePpm);
  const limiter = config.rateLimit === undefined ? undefined : new RateLimiter(config.rateLimit, config.now);
  const keys = new ApiKeyVerifier({ chainId: config.chainId, vault: config.vault, gateway: config.gateway }, config.keyCacheEntries);
  /** Grants already stored for settlement, by grant id (the write is idempotent; this saves the round trip). */
  const remembered = new Map<string, Promise<void>>();
  const metrics = new ApiMetrics(() => pool.metrics());
  const recent = config.recentResponses.maxEntries > 0 ? new RecentResponses(config.recentResponses, config.now) : undefined;
  const billingDeps: BillingDeps = {
    ...(recent === undefined ? {} : { recent }),
    onCharged: (model, usage) => metrics.charged(model, usage.promptTokens, usage.completionTokens),
    credit,
    store,
    epochAt: config.epochAt,
    accountOf: (node) => pool.nodes().find((n) => n.node === node)?.account,
    now: config.now,
    log: config.log,
  };

  const rememberGrant = (key: ParsedApiKey, grantId: string): Promise<void> => {
    let done = remembered.get(grantId);
    if (done === undefined) {
      done = store.rememberGrant({ grant: key.grant, signature: key.signature });
      remembered.set(grantId, done);
      done.catch(() => remembered.delete(grantId));
    }
    return done;
  };

  async function complete(c: Context, endpoint: Endpoint): Promise<Response> {
    const receivedAt = config.now();
    const { key, grantId } = await keys.authenticate(c.req.header("authorization"));
    const waitMs = limiter?.take(grantId) ?? 0;
    if (waitMs > 0) throw rateLimited(waitMs);
    const parsed = parseCompletionRequest(endpoint, await readJson(c));
    const bondedOnly = parsed.bondedOnly || isTrue(c.req.header(BONDED_ONLY_HEADER));
    const model = pool.models().find((m) => m.id === parsed.model);
    if (model === undefined) throw new NoNodeForModel(parsed.model, bondedOnly);
    const quote = await credit.quote(parsed.model, key.grant);
    if (quote === undefined) throw new ApiError(404, "not_found_error", "model_not_found", `model ${JSON.stringify(parsed.model)} is not enabled on the network`, "model");

    const maxTokens = parsed.maxTokens ?? Math.min(config.defaultMaxTokens, model.contextLength - 1);
    const promptTokens = promptTokenBound(parsed, model, config.chatTemplateTokensPerMessage);
    // The node stops at the context's end, so a larger max_tokens never costs more than this.
    const completionTokens = Math.min(maxTokens, model.contextLength - 1);
    const reservation = await credit.reserve(key.grant, quote.cost({ promptTokens, completionTokens }));
    const requestId = `${endpoint === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID()}`;
    const sampling = config.sampling;
    const sampled = sampling !== undefined && shouldSample(sampling.salt, requestId, sampling.ratePpm);
    const request = sampled || recent !== undefined ? () => sampledRequest(parsed, maxTokens) : undefined;
    const billing = new RequestBilling(billingDeps, { key, grantId, quote, reservation, requestId, receivedAt, sampled, ...(request === undefined ? {} : { request }) });
    const head: ResponseHead = { id: requestId, created: Math.floor(receivedAt / 1000), model: parsed.model, endpoint, logprobs: parsed.logprobs, topLogprobs: parsed.topLogprobs };

    let events: AsyncGenerator<DispatchEvent, void, undefined>;
    let first: IteratorResult<DispatchEvent, void>;
    try {
      await rememberGrant(key, grantId);
      events = pool.dispatch(parsed.model, toInferenceRequest(parsed, maxTokens), { requestId, signal: c.req.raw.signal, bondedOnly });
      // Failures before the first token (no node, every attempt failed) still get an HTTP status.
      first = await events.next();
    } catch (error) {
      billing.release();
      throw error;
    }
    if (parsed.stream) return sseResponse(head, parsed.includeUsage, first, events, billing, config.log);
    return c.json(await collect(head, first, events, billing));
  }

  const app = new Hono();
  app.onError((error, c) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500 && !(error instanceof NoNodeForModel || error instanceof AllAttemptsFailed)) config.log("error", "request failed", { path: c.req.path, error: String(error) });
    if (apiError.retryAfterMs !== undefined) {
      const seconds = Math.ceil(apiError.retryAfterMs / 1000);
      c.header("retry-after", String(seconds));
      // OpenAI's rate-limit headers, which its clients read.
      if (config.rateLimit !== undefined) c.header("x-ratelimit-limit-requests", String(config.rateLimit.requestsPerMinute));
      c.header("x-ratelimit-remaining-requests", "0");
      c.header("x-ratelimit-reset-requests", `${seconds}s`);
    }
    return c.json(apiError.body, apiError.status);
  });
  app.notFound((c) => c.json(new ApiError(404, "not_found_error", "unknown_url", `no route for ${c.req.method} ${c.req.path}`).body, 404));
  const tooLarge = () => Promise.reject(new ApiError(413, "invalid_request_error", "request_too_large", `the body exceeds ${config.maxBodyBytes} bytes`));
  const streamedLimit = bodyLimit({ maxSize: config.maxBodyBytes, onError: tooLarge });
  // A body with a Content-Length is judged by the header (Node's parser never reads past it), so
  // @hono/node-server reads it straight from the socket later; hono's bodyLimit would first turn
  // the request into a web Request with a body stream (a measurable share of a small request).
  // Chunked bodies are counted as they stream in.
  const limit: MiddlewareHandler = (c, next) => {
    const length = c.req.header("content-length");
    if (length === undefined || c.req.header("transfer-encoding") !== undefined) return streamedLimit(c, next);
    return /^\d+$/.test(length) && Number(length) <= config.maxBodyBytes ? next() : tooLarge();
  };

  app.use("/v1/*", async (c, next) => {
    const started = config.now();
    await next();
    metrics.request(ENDPOINTS.has(c.req.path) ? c.req.path : "other", c.res.status, (config.now() - started) / 1000);
  });
  app.get("/metrics", async (c) => c.body(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType }));
  app.get("/v1/models", (c) =>
    c.json({ object: "list", data: pool.models().map((m) => ({ id: m.id, object: "model", created: 0, owned_by: "pod-network", context_length: m.contextLength, nodes: m.nodes })) }),
  );
  addEpochRoutes(app, store, config.receiptsToken);
  addSampleRoutes(app, store, config.receiptsToken);
  addFlagRoutes(app, store, keys, config.receiptsToken, recent);
  app.post("/v1/completions", limit, (c) => complete(c, "completion"));
  app.post("/v1/chat/completions", limit, (c) => complete(c, "chat"));
  return app;
}

/** A non-streamed answer: every token, then the result; the receipt is stored before the body is sent. */
async function collect(head: ResponseHead, first: IteratorResult<DispatchEvent, void>, events: AsyncGenerator<DispatchEvent, void, undefined>, billing: RequestBilling) {
  try {
    for (let next = first; !next.done; next = await events.next()) {
      const event = next.value;
      if (event.type !== "result") continue;
      billing.tokenSent();
      const usage = await billing.complete(event);
      return completionBody(head, event.result.text, event.result.logprobs, event.result.finishReason, usage);
    }
    throw new Error("the pool's stream ended without a result");
  } catch (error) {
    // Nothing reached the client: nothing is charged (MidStreamFailure included).
    billing.release();
    if (error instanceof DispatchAborted) throw new ApiError(400, "invalid_request_error", "client_closed", "the request was aborted");
    throw error;
  } finally {
    await events.return(undefined);
  }
}

async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) throw invalidRequest("the body must be JSON (Content-Type: application/json)");
  try {
    return await c.req.json<unknown>();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw invalidRequest("the body is not valid JSON");
  }
}

/**
 * At most how many tokens the prompt can be, for the reservation: the node refuses prompts that
 * fill the context, and byte-level tokenizers never make more tokens than UTF-8 bytes; chat
 * templates add a bounded number per message.
 */
export function promptTokenBound(parsed: ParsedCompletionRequest, model: ModelInfo, templateTokensPerMessage: number): number {
  const input = parsed.input;
  const bytes =
    input.kind === "prompt"
      ? Buffer.byteLength(input.prompt)
      : input.messages.reduce((n, m) => n + Buffer.byteLength(m.content) + templateTokensPerMessage, templateTokensPerMessage);
  return Math.min(bytes, model.contextLength - 1);
}

/** The request as forwarded to the node, for a validator to re-run (the node's seed is added at completion). */
function sampledRequest(parsed: ParsedCompletionRequest, maxTokens: number): SampledRequest {
  const params: { [key: string]: JsonValue } = { ...parsed.sampling, max_tokens: maxTokens, top_logprobs: parsed.topLogprobs };
  const input = parsed.input.kind === "messages" ? { messages: parsed.input.messages } : { prompt: parsed.input.prompt };
  return { model: parsed.model, ...input, params };
}
