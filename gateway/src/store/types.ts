/**
 * The gateway's durable records: one completion receipt per request (what the user is charged
 * for and what the oracle pays nodes for), sampled request/response pairs for validators, the
 * spend grants behind the charges, and what has been settled on-chain per grant.
 */
import type { Address, Hex } from "viem";
import type { EpochReceipt } from "../../../sdk/src/epochData.ts";
import type { SpendGrant } from "../../../sdk/src/typedData.ts";

export type ReceiptStatus = EpochReceipt["status"];

/** What the gateway itself measured (the node's own timings are in its signed receipt). */
export type GatewayTimings = {
  /** Unix milliseconds when the gateway accepted the request. */
  receivedAt: number;
  /** Milliseconds from receivedAt to the first token sent to the client; null when none was. */
  firstTokenMs: number | null;
  /** Milliseconds from receivedAt to the end of the response. */
  totalMs: number;
};

/**
 * One completion as stored: what the user is charged for and what the oracle pays the node for
 * (the fields served to oracles, sdk/src/epochData.ts), plus the gateway's own timings.
 * requestId is the idempotency key of every write; epoch is computed by the caller from
 * ProtocolParams' epoch schedule at completion; completionTokens counts the tokens delivered to
 * the client (fewer than generated when a stream broke); signedReceipt is null when the node
 * failed before signing one (a partial receipt).
 */
export type CompletionReceipt = EpochReceipt & { timings: GatewayTimings };

export type StoredReceipt = CompletionReceipt & {
  /** Insertion order; the pagination key. */
  seq: bigint;
  createdAt: Date;
};

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type ChatMessage = { role: string; content: string };

/** The request as the gateway forwarded it, enough for a validator to re-run it. */
export type SampledRequest = {
  model: string;
  /** Chat requests carry messages, completion requests a prompt. */
  messages?: ChatMessage[];
  prompt?: string;
  /** Sampling and other parameters (temperature, max_tokens, ...). */
  params: { [key: string]: JsonValue };
};

export type TopLogprob = { tokenId: number; logprob: number };

export type ValidatorSample = {
  requestId: string;
  request: SampledRequest;
  responseText: string;
  promptTokenIds: number[];
  outputTokenIds: number[];
  logprobs: {
    /** Log-probability of each output token (may be -Infinity). */
    chosen: number[];
    /** The top-k alternatives at each output position. */
    top: TopLogprob[][];
  };
};

export type StoredSample = ValidatorSample & { seq: bigint; epoch: number; createdAt: Date };

/** A user's flag on one of their responses: validators check flagged responses first. */
export type StoredFlag = { seq: bigint; requestId: string; account: Address; reason: string; createdAt: Date };

/** A flag with its stored pair; null when none was kept (not sampled, and flagged after it left the recent buffer). */
export type FlaggedSample = { flag: StoredFlag; sample: StoredSample | null };

/** A grant as the API key carried it: what CreditVault.settle needs besides the amount. */
export type SignedGrant = { grant: SpendGrant; signature: Hex };

export type GrantUsage = {
  grantId: Hex;
  account: Address;
  asset: Address;
  /** Sum of `charged` over the grant's receipts of epochs <= epochUpTo: settle's cumulativeSpent. */
  cumulative: bigint;
  /** The cumulative amount last recorded as settled (0n if never). */
  settled: bigint;
  lastSettlementTx: Hex | null;
  /** Null when the grant was never recorded with rememberGrant. */
  signedGrant: SignedGrant | null;
};

export type Page<T> = { items: T[]; /** Pass as `after` for the next page; null at the end. */ next: string | null };

export type PageQuery = { after?: string; limit: number };

export interface ReceiptStore {
  readonly kind: "pglite" | "postgres";
  /**
   * Records a completion (and its validator sample, when sampled) in one transaction, committed
   * and flushed before the promise resolves. Idempotent by requestId: a retry returns
   * `{ inserted: false }` and changes nothing (the sample of a retry is ignored too).
   */
  insert(receipt: CompletionReceipt, sample?: ValidatorSample): Promise<{ inserted: boolean }>;
  receipt(requestId: string): Promise<StoredReceipt | null>;
  /** An epoch's receipts in insertion order, keyset-paginated. */
  receiptsOfEpoch(epoch: number, page: PageQuery): Promise<Page<StoredReceipt>>;
  sampleOf(requestId: string): Promise<StoredSample | null>;
  /** Samples in insertion order after a cursor (validators poll this), optionally of one epoch. */
  samplesSince(page: PageQuery & { epoch?: number }): Promise<Page<StoredSample>>;
  /**
   * Stores the pair of a request that was not sampled (a flagged response kept in memory), in the
   * receipt's epoch; the request's receipt must be stored. Idempotent: returns whether it was new.
   */
  keepSample(sample: ValidatorSample, epoch: number): Promise<{ inserted: boolean }>;
  /** Records a user's flag on a request (once per request: a second flag changes nothing). */
  flag(requestId: string, account: Address, reason: string): Promise<{ created: boolean }>;
  /** Flags in the order they came, after a cursor (a flag's seq), each with its sample if kept. */
  flagsSince(page: PageQuery): Promise<Page<FlaggedSample>>;
  /** Keeps the signed grant behind an API key, so settlement can run after a restart. Idempotent. */
  rememberGrant(signed: SignedGrant): Promise<void>;
  /** Per grant with usage in epochs <= epochUpTo, sorted by asset then grant id (as settle wants). */
  usageByGrant(epochUpTo: number): Promise<GrantUsage[]>;
  /** Records a settlement; only ever moves forward. Returns whether it advanced. */
  markSettled(grantId: Hex, cumulative: bigint, txHash: Hex): Promise<boolean>;
  /** All charges of a grant and how much of them was settled (for credit and cap checks). */
  spendOfGrant(grantId: Hex): Promise<{ charged: bigint; settled: bigint }>;
  /** Charged but not yet settled, over all of an account's grants in one asset. */
  unsettledOfAccount(account: Address, asset: Address): Promise<bigint>;
  close(): Promise<void>;
}

export type OpenStoreOptions = {
  /** postgres:// URL; when set, PostgreSQL is used instead of the embedded PGlite. */
  databaseUrl?: string;
  /** Where PGlite keeps its files (created if missing). Ignored with databaseUrl. */
  dataDir: string;
  /** PGlite only: fsync the WAL after each commit (group-committed). Default true. */
  syncCommits?: boolean;
  /** PostgreSQL only: pool size. Default 10. */
  poolSize?: number;
};

/** Base of every error the store raises on purpose. */
export class StoreError extends Error {
  override name = "StoreError";
}

/** A record or query argument failed validation; nothing was written. */
export class InvalidRecordError extends StoreError {
  override name = "InvalidRecordError";
}

/** The database was migrated by a newer gateway than this one. */
export class SchemaTooNewError extends StoreError {
  override name = "SchemaTooNewError";
}

/** Another live process holds the PGlite data directory. */
export class DataDirLockedError extends StoreError {
  override name = "DataDirLockedError";
}
