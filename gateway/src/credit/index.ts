/**
 * The gateway's credit decisions: whether an API key's grant may pay for a request, and how much
 * a request costs. CreditGuard ties the pure ledger to the cached chain reads.
 */
export { CreditGuard, type CreditGuardConfig, type Quote } from "./guard.ts";
export { CreditLedger, type AccountChainState, type Availability, type GrantChainState, type GrantRef, type Reservation } from "./ledger.ts";
export { CreditVaultReader, ModelPriceReader, type ChainReaderConfig } from "./chain.ts";
export { costInAsset, costInPod, isPricedAsset, parsePricingConfig, type ModelPrice, type PricingConfig, type TokenUsage } from "./pricing.ts";
export { CreditError, InsufficientCredit, KeyRejected, ReservationClosed, type CreditLimit, type KeyRejectionReason } from "./errors.ts";
