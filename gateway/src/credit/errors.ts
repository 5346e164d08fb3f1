/**
 * Typed errors of the gateway's credit decisions. The HTTP layer maps them without string
 * matching: KeyRejected -> 401 (the key can never be served again as it is),
 * InsufficientCredit -> 402 (a deposit, a withdrawal cancelled or a new grant would help),
 * ReservationClosed -> 500 (a gateway bug: a request committed or released twice).
 */
import type { Hex } from "viem";

export class CreditError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export type KeyRejectionReason =
  /** The grant's expiry has passed (the vault settles nothing served after it). */
  | "expired"
  /** The account revoked the grant's nonce on-chain. */
  | "revoked"
  /** Another grant of the account already uses this nonce (on-chain, or served here first). */
  | "nonce_reused"
  /** The grant's asset has no configured POD price here, so no request can be priced in it. */
  | "unpriced_asset";

export class KeyRejected extends CreditError {
  readonly reason: KeyRejectionReason;
  readonly grantId: Hex;
  constructor(reason: KeyRejectionReason, grantId: Hex, message: string) {
    super(message);
    this.reason = reason;
    this.grantId = grantId;
  }
}

export type CreditLimit = "cap" | "balance";

/** The request's maximum cost exceeds what the grant's cap or the account's balance leaves. */
export class InsufficientCredit extends CreditError {
  /** The binding limit: the smaller of what the cap and the balance leave. */
  readonly limit: CreditLimit;
  readonly requested: bigint;
  /** What the binding limit leaves (in the grant's asset's base units; 0 when none). */
  readonly available: bigint;
  readonly grantId: Hex;
  constructor(limit: CreditLimit, grantId: Hex, requested: bigint, available: bigint) {
    const what = limit === "cap" ? "the grant's cap leaves" : "the account's credit leaves";
    super(`this request may cost up to ${requested}, but ${what} ${available}`);
    this.limit = limit;
    this.requested = requested;
    this.available = available;
    this.grantId = grantId;
  }
}

/** A reservation was committed or released twice, or never came from this ledger. */
export class ReservationClosed extends CreditError {
  readonly reservationId: number;
  constructor(reservationId: number) {
    super(`reservation ${reservationId} is not open (already committed or released)`);
    this.reservationId = reservationId;
  }
}
