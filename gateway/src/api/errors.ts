/**
 * OpenAI-shaped errors: `{ error: { message, type, param, code } }` with the HTTP status.
 * Errors of the pool, the credit guard and the API key parser are mapped here by class, never
 * by their message.
 */
import { ApiKeyError } from "../../../sdk/src/apiKey.ts";
import { InsufficientCredit, KeyRejected } from "../credit/index.ts";
import { AllAttemptsFailed, DispatchAborted, JobRejected, MidStreamFailure, NoNodeForModel } from "../pool/index.ts";

export type ApiErrorType = "invalid_request_error" | "authentication_error" | "insufficient_quota" | "not_found_error" | "rate_limit_error" | "server_error";

export type ApiErrorBody = { error: { message: string; type: ApiErrorType; param: string | null; code: string | null } };

export class ApiError extends Error {
  readonly status: 400 | 401 | 402 | 404 | 413 | 429 | 500 | 502 | 503;
  /** Sent as Retry-After (seconds, rounded up) with a 429. */
  retryAfterMs: number | undefined;
  readonly type: ApiErrorType;
  readonly code: string | null;
  readonly param: string | null;
  constructor(status: ApiError["status"], type: ApiErrorType, code: string | null, message: string, param: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
    this.retryAfterMs = undefined;
  }

  get body(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function rateLimited(retryAfterMs: number): ApiError {
  const error = new ApiError(429, "rate_limit_error", "rate_limit_exceeded", `too many requests for this API key; retry in ${Math.ceil(retryAfterMs / 1000)} s`);
  error.retryAfterMs = retryAfterMs;
  return error;
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) => new ApiError(400, "invalid_request_error", code, message, param);

/** Maps whatever a request's handling threw to the error the client sees (500 for the unknown). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ApiKeyError) return new ApiError(401, "authentication_error", "invalid_api_key", `invalid API key: ${error.message}`);
  if (error instanceof KeyRejected) return new ApiError(401, "authentication_error", `key_${error.reason}`, error.message);
  if (error instanceof InsufficientCredit) {
    return new ApiError(402, "insufficient_quota", error.limit === "cap" ? "grant_cap_exceeded" : "insufficient_credit", error.message);
  }
  if (error instanceof NoNodeForModel) return new ApiError(503, "server_error", "no_node_available", error.message);
  if (error instanceof AllAttemptsFailed) return new ApiError(502, "server_error", "upstream_failed", error.message);
  if (error instanceof MidStreamFailure) return new ApiError(502, "server_error", "node_failed", `the serving node failed after ${error.delivered.length} token(s)`);
  if (error instanceof DispatchAborted) return invalidRequest("the client closed the request", null, "client_closed");
  if (error instanceof JobRejected) return invalidRequest(error.message, null, error.code);
  return new ApiError(500, "server_error", "internal_error", "the gateway failed to handle this request");
}
