/** The gateway's OpenAI-compatible HTTP API: createApp wires the pool, the credit guard and the store. */
export { BONDED_ONLY_HEADER, createApp, promptTokenBound, API_DEFAULTS, type ApiConfig, type ApiDeps } from "./app.ts";
export { ApiError, toApiError, type ApiErrorBody, type ApiErrorType } from "./errors.ts";
export { ApiKeyVerifier, type KeyTarget } from "./keys.ts";
export { parseCompletionRequest, type ParsedCompletionRequest, type Endpoint } from "./validate.ts";
export type { ApiLogger } from "./billing.ts";
export { RateLimiter, type RateLimitConfig } from "./rateLimit.ts";
export { ApiMetrics } from "./metrics.ts";
