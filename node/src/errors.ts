/**
 * Typed errors of the worker node. Every error a caller can act on has its own class and a
 * stable `code`, so the local endpoint and the gateway client map them without string matching.
 */
export type NodeErrorCode =
  | "invalid_request"
  | "model_not_found"
  | "checksum_mismatch"
  | "model_invalid"
  | "context_length_exceeded"
  | "node_draining"
  | "cancelled"
  | "key_error"
  | "internal_error";

export class NodeError extends Error {
  readonly code: NodeErrorCode;
  /** HTTP status the local endpoint answers with. */
  readonly status: number;
  constructor(code: NodeErrorCode, message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** A request the node refuses before any work: bad field, empty prompt, negative max_tokens. */
export class InvalidRequestError extends NodeError {
  readonly param: string | undefined;
  constructor(message: string, param?: string) {
    super("invalid_request", message, 400);
    this.param = param;
  }
}

export class ModelNotFoundError extends NodeError {
  constructor(model: string, available: readonly string[]) {
    super("model_not_found", `model "${model}" is not served here (available: ${available.join(", ") || "none"})`, 404);
  }
}

export class ContextLengthError extends NodeError {
  constructor(promptTokens: number, contextLength: number) {
    super(
      "context_length_exceeded",
      `prompt has ${promptTokens} tokens; the model's context is ${contextLength} tokens and at least one must be left to generate`,
      400,
    );
  }
}

/** A model file whose sha256 differs from the manifest: the model is refused. */
export class ChecksumMismatchError extends NodeError {
  readonly file: string;
  constructor(file: string, expected: string, actual: string) {
    super("checksum_mismatch", `checksum mismatch for ${file}: manifest says ${expected}, file hashes to ${actual}; refusing to load`, 500);
    this.file = file;
  }
}

export class ModelInvalidError extends NodeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("model_invalid", message, 500, options);
  }
}

export class DrainingError extends NodeError {
  constructor() {
    super("node_draining", "the node is shutting down and takes no new requests", 503);
  }
}

export class CancelledError extends NodeError {
  constructor(reason = "request cancelled") {
    super("cancelled", reason, 499);
  }
}

export class KeyError extends NodeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("key_error", message, 500, options);
  }
}
