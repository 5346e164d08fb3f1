/**
 * What gateways serve to oracles, one place for both sides:
 * - `GET /v1/epochs/:n/receipts?after=&limit=`: an epoch's completion receipts, keyset-paginated;
 * - `GET /v1/epochs/:n/usage`: each grant's cumulative usage through epoch n, with the signed grant
 *   that `CreditVault.settle` needs.
 * Amounts (uint256) travel as decimal strings; the parsers below turn them back into bigints and
 * reject anything malformed with an EpochDataError naming the field.
 */
import type { Address, Hex } from "viem";
import type { SignedReceipt } from "./receipt.ts";
import type { SpendGrant } from "./typedData.ts";

/** One completion as the gateway recorded it. */
export type EpochReceipt = {
  /** The gateway's request id (unique per gateway; the node signs it too). */
  requestId: string;
  epoch: number;
  model: string;
  /** Node key that served it (the signer of `signedReceipt`). */
  nodeAddress: Address;
  /** Operator account the gateway saw the node registered under. */
  nodeAccount: Address;
  grantId: Hex;
  account: Address;
  asset: Address;
  inputPricePerMTok: bigint;
  outputPricePerMTok: bigint;
  promptTokens: number;
  /** Tokens delivered to the client. */
  completionTokens: number;
  charged: bigint;
  status: "complete" | "partial";
  /** Null when the node failed before signing (such a receipt pays no node). */
  signedReceipt: SignedReceipt | null;
};

export type EpochReceiptsPage = { epoch: number; data: EpochReceipt[]; next: string | null };

/** One grant's usage through an epoch: what settle's Usage entry needs. */
export type EpochGrantUsage = {
  grantId: Hex;
  grant: SpendGrant;
  signature: Hex;
  /** Everything charged under the grant in epochs <= the page's epoch. */
  cumulative: bigint;
};

export type EpochUsage = {
  epoch: number;
  /** Sorted by asset, then grant id. */
  data: EpochGrantUsage[];
  /** Grants with usage whose signed grant the gateway does not hold (cannot be settled). */
  unsettleable: Hex[];
};

/** Malformed gateway data; `field` names where (e.g. `data[3].signedReceipt.signature`). */
export class EpochDataError extends Error {
  override name = "EpochDataError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
