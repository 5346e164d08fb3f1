/**
 * Typed errors of the node pool. The HTTP layer maps them without string matching:
 * NoNodeForModel -> 503, AllAttemptsFailed -> 502/503, MidStreamFailure -> an error event after
 * the tokens already sent (charging only those), JobRejected -> 400, DispatchAborted -> nothing
 * (the client is gone).
 */
import type { Address } from "viem";
import type { StreamedToken } from "./job.ts";

export class PoolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No connected node may take this model (none serves it, or none that is bonded / not draining). */
export class NoNodeForModel extends PoolError {
  readonly model: string;
  readonly bondedOnly: boolean;
  constructor(model: string, bondedOnly: boolean) {
    super(`no ${bondedOnly ? "bonded " : ""}node is serving model ${JSON.stringify(model)} now`);
    this.model = model;
    this.bondedOnly = bondedOnly;
  }
}

/** Why one attempt on one node failed (before any token reached the caller). */
export type AttemptFailure = { node: Address; code: string; message: string };

/** Every node tried failed before the first token. */
export class AllAttemptsFailed extends PoolError {
  readonly model: string;
  readonly attempts: readonly AttemptFailure[];
  constructor(model: string, attempts: readonly AttemptFailure[]) {
    const last = attempts[attempts.length - 1];
    super(`model ${JSON.stringify(model)}: ${attempts.length} attempt(s) failed${last === undefined ? "" : `; last: ${last.code}: ${last.message}`}`);
    this.model = model;
    this.attempts = attempts;
  }
}

/** The node failed after tokens reached the caller: no retry (the caller has seen output). */
export class MidStreamFailure extends PoolError {
  readonly node: Address;
  readonly code: string;
  /** The tokens delivered before the failure, in order: the only ones to charge. */
  readonly delivered: readonly StreamedToken[];
  constructor(node: Address, code: string, message: string, delivered: readonly StreamedToken[]) {
    super(`node ${node} failed after ${delivered.length} token(s): ${code}: ${message}`);
    this.node = node;
    this.code = code;
    this.delivered = delivered;
  }
}

/** The node refused the request itself (bad input, context too long): no other node would take it. */
export class JobRejected extends PoolError {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** The caller aborted the request; the node was told to cancel. */
export class DispatchAborted extends PoolError {
  constructor() {
    super("the request was aborted by the caller");
  }
}
