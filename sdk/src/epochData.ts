/**
 * What gateways serve to oracles, one place for both sides:
 * - `GET /v1/epochs/:n/receipts?after=&limit=`: an epoch's completion receipts, keyset-paginated;
 * - `GET /v1/epochs/:n/usage`: each grant's cumulative usage through epoch n, with the signed grant
 *   that `CreditVault.settle` needs.
 * Amounts (uint256) travel as decimal strings; the parsers below turn them back into bigints and
 * reject anything malformed with an EpochDataError naming the field.
 */
import { getAddress, isAddress, isHex, type Address, type Hex } from "viem";
import { grantIdOf } from "./apiKey.ts";
import { parseSignedReceipt, type SignedReceipt } from "./receipt.ts";
import { checkCanonicalSignature } from "./signature.ts";
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
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

// ---------------------------------------------------------------- parsing (oracle side)

const UINT256_MAX = 2n ** 256n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const UINT32_MAX = 2 ** 32 - 1;
type Json = Record<string, unknown>;

function objectAt(raw: unknown, field: string): Json {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new EpochDataError(field, "must be an object");
  return raw as Json;
}

function arrayAt(raw: unknown, field: string): unknown[] {
  if (!Array.isArray(raw)) throw new EpochDataError(field, "must be an array");
  return raw;
}

function stringAt(raw: unknown, field: string): string {
  if (typeof raw !== "string" || raw.length === 0) throw new EpochDataError(field, "must be a non-empty string");
  return raw;
}

/** Checksummed, so comparisons never depend on the gateway's spelling. */
function addressAt(raw: unknown, field: string): Address {
  if (typeof raw !== "string" || !isAddress(raw, { strict: false })) throw new EpochDataError(field, "must be an address");
  return getAddress(raw);
}

/** Lowercase, as the store keeps hashes. */
function bytes32At(raw: unknown, field: string): Hex {
  if (typeof raw !== "string" || !isHex(raw) || raw.length !== 66) throw new EpochDataError(field, "must be 32 bytes of hex");
  return raw.toLowerCase() as Hex;
}

function uintAt(raw: unknown, field: string, max: number = Number.MAX_SAFE_INTEGER): number {
  if (typeof raw !== "number" || !Number.isSafeInteger(raw) || raw < 0 || raw > max) throw new EpochDataError(field, `must be an integer from 0 to ${max}`);
  return raw;
}

/** A uint as JSON carries it: decimal text without sign, exponent or leading zeros. */
function decimalAt(raw: unknown, field: string, max: bigint = UINT256_MAX): bigint {
  if (typeof raw !== "string" || !/^(0|[1-9]\d{0,77})$/.test(raw)) throw new EpochDataError(field, "must be a decimal string");
  const value = BigInt(raw);
  if (value > max) throw new EpochDataError(field, `must be at most ${max}`);
  return value;
}

function signatureAt(raw: unknown, field: string): Hex {
  if (typeof raw !== "string" || !isHex(raw)) throw new EpochDataError(field, "must be hex");
  const why = checkCanonicalSignature(raw);
  if (why !== undefined) throw new EpochDataError(field, why);
  return raw.toLowerCase() as Hex;
}

/** One receipt of `GET /v1/epochs/:n/receipts`; `field` prefixes error names (e.g. `data[3]`). */
export function parseEpochReceipt(raw: unknown, field: string): EpochReceipt {
  const o = objectAt(raw, field);
  const at = (key: string) => `${field}.${key}`;
  const status = o.status;
  if (status !== "complete" && status !== "partial") throw new EpochDataError(at("status"), "must be complete or partial");
  const requestId = stringAt(o.requestId, at("requestId"));
  let signedReceipt: SignedReceipt | null = null;
  if (o.signedReceipt !== null) {
    if (o.signedReceipt === undefined) throw new EpochDataError(at("signedReceipt"), "must be a signed receipt or null");
    try {
      signedReceipt = parseSignedReceipt(o.signedReceipt);
    } catch (error) {
      throw new EpochDataError(at("signedReceipt"), error instanceof Error ? error.message : String(error));
    }
    if (signedReceipt.receipt.requestId !== requestId) throw new EpochDataError(at("signedReceipt.receipt.requestId"), "is not the receipt's requestId");
  }
  return {
    requestId,
    epoch: uintAt(o.epoch, at("epoch")),
    model: stringAt(o.model, at("model")),
    nodeAddress: addressAt(o.nodeAddress, at("nodeAddress")),
    nodeAccount: addressAt(o.nodeAccount, at("nodeAccount")),
    grantId: bytes32At(o.grantId, at("grantId")),
    account: addressAt(o.account, at("account")),
    asset: addressAt(o.asset, at("asset")),
    inputPricePerMTok: decimalAt(o.inputPricePerMTok, at("inputPricePerMTok")),
    outputPricePerMTok: decimalAt(o.outputPricePerMTok, at("outputPricePerMTok")),
    promptTokens: uintAt(o.promptTokens, at("promptTokens"), UINT32_MAX),
    completionTokens: uintAt(o.completionTokens, at("completionTokens"), UINT32_MAX),
    charged: decimalAt(o.charged, at("charged")),
    status,
    signedReceipt,
  };
}

/** A page of `GET /v1/epochs/:n/receipts`; every receipt must be of the page's epoch. */
export function parseEpochReceiptsPage(raw: unknown): EpochReceiptsPage {
  const o = objectAt(raw, "page");
  const epoch = uintAt(o.epoch, "epoch");
  const data = arrayAt(o.data, "data").map((item, i) => {
    const receipt = parseEpochReceipt(item, `data[${i}]`);
    if (receipt.epoch !== epoch) throw new EpochDataError(`data[${i}].epoch`, `is ${receipt.epoch}, not the page's epoch ${epoch}`);
    return receipt;
  });
  const next = o.next;
  if (next !== null && (typeof next !== "string" || !/^\d{1,19}$/.test(next))) throw new EpochDataError("next", "must be a cursor or null");
  return { epoch, data, next };
}

function parseGrantUsage(raw: unknown, field: string): EpochGrantUsage {
  const o = objectAt(raw, field);
  const at = (key: string) => `${field}.${key}`;
  const g = objectAt(o.grant, at("grant"));
  const grant: SpendGrant = {
    account: addressAt(g.account, at("grant.account")),
    gateway: addressAt(g.gateway, at("grant.gateway")),
    asset: addressAt(g.asset, at("grant.asset")),
    cap: decimalAt(g.cap, at("grant.cap")),
    expiry: decimalAt(g.expiry, at("grant.expiry"), UINT64_MAX),
    nonce: decimalAt(g.nonce, at("grant.nonce")),
  };
  const grantId = bytes32At(o.grantId, at("grantId"));
  // The vault identifies the grant by its struct hash: a mismatch could never settle.
  if (grantIdOf(grant) !== grantId) throw new EpochDataError(at("grantId"), "is not the struct hash of the grant");
  return { grantId, grant, signature: signatureAt(o.signature, at("signature")), cumulative: decimalAt(o.cumulative, at("cumulative")) };
}

/** The body of `GET /v1/epochs/:n/usage`. */
export function parseEpochUsage(raw: unknown): EpochUsage {
  const o = objectAt(raw, "usage");
  return {
    epoch: uintAt(o.epoch, "epoch"),
    data: arrayAt(o.data, "data").map((item, i) => parseGrantUsage(item, `data[${i}]`)),
    unsettleable: arrayAt(o.unsettleable, "unsettleable").map((item, i) => bytes32At(item, `unsettleable[${i}]`)),
  };
}

/** JSON for the epoch endpoints: bigints (uint256 amounts) as decimal strings. */
export function serializeEpochJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** A logprob alternative at one output position. */
export type SampleTopLogprob = { tokenId: number; logprob: number };

/**
 * One sampled request/response pair as `GET /v1/samples?after=&limit=` serves it to validators
 * (behind the gateway's receipts token): what the gateway forwarded, what the node returned
 * (token ids and logprobs included) and the completion's receipt (with the node's signature).
 * Validators cannot be told apart from other requests by nodes: sampling is decided by a keyed
 * hash at the gateway.
 */
export type EpochSample = {
  requestId: string;
  epoch: number;
  request: {
    model: string;
    messages?: { role: string; content: string }[];
    prompt?: string;
    /** Sampling parameters as forwarded (temperature, top_p, seed, stop, max_tokens, top_logprobs...). */
    params: Record<string, unknown>;
  };
  responseText: string;
  promptTokenIds: number[];
  outputTokenIds: number[];
  /** chosen: the output tokens' logprobs (null where -Infinity); top: the alternatives per position. */
  logprobs: { chosen: (number | null)[]; top: SampleTopLogprob[][] };
  receipt: EpochReceipt;
};

export type EpochSamplesPage = { data: EpochSample[]; next: string | null };

// ---------------------------------------------------------------- samples (validator side)

/** A string that may be empty (prompts, message contents, response texts). */
function textAt(raw: unknown, field: string): string {
  if (typeof raw !== "string") throw new EpochDataError(field, "must be a string");
  return raw;
}

function tokenIdsAt(raw: unknown, field: string): number[] {
  return arrayAt(raw, field).map((id, i) => uintAt(id, `${field}[${i}]`, UINT32_MAX));
}

/** Log-probabilities are finite numbers (the gateway sends -Infinity as null where allowed). */
function logprobAt(raw: unknown, field: string): number {
  if (typeof raw !== "number" || !Number.isFinite(raw)) throw new EpochDataError(field, "must be a finite number");
  return raw;
}

function sampleRequestAt(raw: unknown, field: string): EpochSample["request"] {
  const o = objectAt(raw, field);
  const at = (key: string) => `${field}.${key}`;
  // A chat request carries messages, a completion request a prompt: never both, never neither.
  if ((o.messages === undefined) === (o.prompt === undefined)) throw new EpochDataError(at("messages"), "exactly one of messages and prompt must be present");
  const params = objectAt(o.params, at("params"));
  const input =
    o.prompt !== undefined
      ? { prompt: textAt(o.prompt, at("prompt")) }
      : {
          messages: arrayAt(o.messages, at("messages")).map((m, i) => {
            const message = objectAt(m, `${at("messages")}[${i}]`);
            return { role: stringAt(message.role, `${at("messages")}[${i}].role`), content: textAt(message.content, `${at("messages")}[${i}].content`) };
          }),
        };
  return { model: stringAt(o.model, at("model")), ...input, params };
}

/** One sample of `GET /v1/samples`; `field` prefixes error names (e.g. `data[3]`). */
export function parseEpochSample(raw: unknown, field: string): EpochSample {
  const o = objectAt(raw, field);
  const at = (key: string) => `${field}.${key}`;
  const requestId = stringAt(o.requestId, at("requestId"));
  const epoch = uintAt(o.epoch, at("epoch"));
  const request = sampleRequestAt(o.request, at("request"));
  const outputTokenIds = tokenIdsAt(o.outputTokenIds, at("outputTokenIds"));
  const lp = objectAt(o.logprobs, at("logprobs"));
  const chosen = arrayAt(lp.chosen, at("logprobs.chosen")).map((v, i) => (v === null ? null : logprobAt(v, `${at("logprobs.chosen")}[${i}]`)));
  const top = arrayAt(lp.top, at("logprobs.top")).map((alts, i) =>
    arrayAt(alts, `${at("logprobs.top")}[${i}]`).map((alt, j) => {
      const f = `${at("logprobs.top")}[${i}][${j}]`;
      const a = objectAt(alt, f);
      return { tokenId: uintAt(a.tokenId, `${f}.tokenId`, UINT32_MAX), logprob: logprobAt(a.logprob, `${f}.logprob`) };
    }),
  );
  // One logprob and one list of alternatives per output token: a validator compares them position by position.
  if (chosen.length !== outputTokenIds.length) throw new EpochDataError(at("logprobs.chosen"), `has ${chosen.length} entries for ${outputTokenIds.length} output tokens`);
  if (top.length !== outputTokenIds.length) throw new EpochDataError(at("logprobs.top"), `has ${top.length} entries for ${outputTokenIds.length} output tokens`);
  const receipt = parseEpochReceipt(o.receipt, at("receipt"));
  if (receipt.requestId !== requestId) throw new EpochDataError(at("receipt.requestId"), "is not the sample's requestId");
  if (receipt.epoch !== epoch) throw new EpochDataError(at("receipt.epoch"), `is ${receipt.epoch}, not the sample's epoch ${epoch}`);
  if (receipt.model !== request.model) throw new EpochDataError(at("receipt.model"), "is not the sampled request's model");
  return {
    requestId,
    epoch,
    request,
    responseText: textAt(o.responseText, at("responseText")),
    promptTokenIds: tokenIdsAt(o.promptTokenIds, at("promptTokenIds")),
    outputTokenIds,
    logprobs: { chosen, top },
    receipt,
  };
}

/** A page of `GET /v1/samples?after=&limit=&epoch=`. */
export function parseEpochSamplesPage(raw: unknown): EpochSamplesPage {
  const o = objectAt(raw, "page");
  const data = arrayAt(o.data, "data").map((item, i) => parseEpochSample(item, `data[${i}]`));
  const next = o.next;
  if (next !== null && (typeof next !== "string" || !/^\d{1,19}$/.test(next))) throw new EpochDataError("next", "must be a cursor or null");
  return { data, next };
}
