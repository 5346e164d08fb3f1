/**
 * Checks records before they are written (pure): a bad record is refused whole with
 * InvalidRecordError, so nothing half-valid reaches the database. Addresses come out
 * checksummed and hashes lowercase, so lookups never depend on the caller's spelling.
 */
import { getAddress, isAddress, isHex, type Address, type Hex } from "viem";
import { parseSignedReceipt } from "../../../sdk/src/receipt.ts";
import { InvalidRecordError, type CompletionReceipt, type PageQuery, type SignedGrant, type ValidatorSample } from "./types.ts";

const UINT256_MAX = 2n ** 256n - 1n;
const INT32_MAX = 2 ** 31 - 1;
export const MAX_PAGE = 10_000;

export function checkReceipt(r: CompletionReceipt): CompletionReceipt {
  checkRequestId(r.requestId);
  checkEpoch(r.epoch);
  if (typeof r.model !== "string" || r.model.length === 0 || hasNul(r.model)) throw new InvalidRecordError("model must be a non-empty string");
  if (r.status !== "complete" && r.status !== "partial") throw new InvalidRecordError(`status must be complete or partial, got ${String(r.status)}`);
  for (const key of ["promptTokens", "completionTokens"] as const) checkInt32(r[key], key);
  for (const key of ["inputPricePerMTok", "outputPricePerMTok", "charged"] as const) checkUint256(r[key], key);
  const { receivedAt, firstTokenMs, totalMs } = r.timings;
  if (!Number.isSafeInteger(receivedAt) || receivedAt < 0) throw new InvalidRecordError("timings.receivedAt must be unix milliseconds");
  if (firstTokenMs !== null) checkInt32(firstTokenMs, "timings.firstTokenMs");
  checkInt32(totalMs, "timings.totalMs");
  let signedReceipt = null;
  if (r.signedReceipt !== null) {
    try {
      signedReceipt = parseSignedReceipt(r.signedReceipt);
    } catch (error) {
      throw new InvalidRecordError(`signedReceipt: ${(error as Error).message}`);
    }
    if (signedReceipt.receipt.requestId !== r.requestId) throw new InvalidRecordError("signedReceipt is for another request");
  }
  return {
    ...r,
    nodeAddress: address(r.nodeAddress, "nodeAddress"),
    nodeAccount: address(r.nodeAccount, "nodeAccount"),
    account: address(r.account, "account"),
    asset: address(r.asset, "asset"),
    grantId: bytes32(r.grantId, "grantId"),
    signedReceipt,
  };
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000: a sample whose text has one is refused (the
 * caller may store the receipt without it; token ids are what validators rely on).
 */
export function checkSample(s: ValidatorSample, requestId: string): ValidatorSample {
  if (s.requestId !== requestId) throw new InvalidRecordError("the sample is for another request");
  if (hasNul(s.responseText) || hasNul(s.request)) throw new InvalidRecordError("a sample's text cannot contain U+0000");
  const { request } = s;
  if (typeof request.model !== "string" || (request.messages === undefined && request.prompt === undefined)) {
    throw new InvalidRecordError("a sampled request needs a model and messages or a prompt");
  }
  if (typeof request.params !== "object" || request.params === null) throw new InvalidRecordError("request.params must be an object");
  if (typeof s.responseText !== "string") throw new InvalidRecordError("responseText must be a string");
  checkTokenIds(s.promptTokenIds, "promptTokenIds");
  checkTokenIds(s.outputTokenIds, "outputTokenIds");
  const { chosen, top } = s.logprobs;
  if (!Array.isArray(chosen) || chosen.some((lp) => typeof lp !== "number" || Number.isNaN(lp))) throw new InvalidRecordError("logprobs.chosen must be numbers");
  if (!Array.isArray(top) || top.some((alts) => !Array.isArray(alts) || alts.some((a) => !isTopLogprob(a)))) {
    throw new InvalidRecordError("logprobs.top must be lists of { tokenId, logprob }");
  }
  return s;
}

export function checkSignedGrant(signed: SignedGrant): SignedGrant {
  const { grant } = signed;
  checkUint256(grant.cap, "grant.cap");
  checkUint256(grant.expiry, "grant.expiry");
  checkUint256(grant.nonce, "grant.nonce");
  if (!isHex(signed.signature) || signed.signature.length < 4) throw new InvalidRecordError("grant signature must be hex");
  return {
    grant: { ...grant, account: address(grant.account, "grant.account"), gateway: address(grant.gateway, "grant.gateway"), asset: address(grant.asset, "grant.asset") },
    signature: signed.signature.toLowerCase() as Hex,
  };
}

export function checkRequestId(requestId: string): void {
  if (typeof requestId !== "string" || requestId.length === 0 || requestId.length > 200 || hasNul(requestId)) {
    throw new InvalidRecordError("requestId must be 1 to 200 characters, without U+0000");
  }
}

/** Whether any string in a JSON-like value (keys included) holds U+0000. */
function hasNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (Array.isArray(value)) return value.some(hasNul);
  if (typeof value === "object" && value !== null) return Object.entries(value).some(([key, v]) => hasNul(key) || hasNul(v));
  return false;
}

export function checkEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new InvalidRecordError(`epoch must be a non-negative integer, got ${epoch}`);
}

export function checkUint256(value: bigint, name: string): void {
  if (typeof value !== "bigint" || value < 0n || value > UINT256_MAX) throw new InvalidRecordError(`${name} must be a uint256 bigint`);
}

/** The cursor is the last item's seq, as decimal text. */
export function checkPage(page: PageQuery): { after: string; limit: number } {
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > MAX_PAGE) throw new InvalidRecordError(`limit must be 1 to ${MAX_PAGE}`);
  const after = page.after ?? "0";
  if (!/^\d{1,19}$/.test(after)) throw new InvalidRecordError("after must be a cursor returned by a previous page");
  return { after, limit: page.limit };
}

export function address(value: string, name: string): Address {
  if (typeof value !== "string" || !isAddress(value, { strict: false })) throw new InvalidRecordError(`${name} must be an address`);
  return getAddress(value);
}

export function bytes32(value: string, name: string): Hex {
  if (typeof value !== "string" || !isHex(value) || value.length !== 66) throw new InvalidRecordError(`${name} must be 32 bytes of hex`);
  return value.toLowerCase() as Hex;
}

function checkInt32(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > INT32_MAX) throw new InvalidRecordError(`${name} must be a non-negative 32-bit integer`);
}

function checkTokenIds(ids: number[], name: string): void {
  if (!Array.isArray(ids) || ids.some((id) => !Number.isInteger(id) || id < 0 || id > INT32_MAX)) throw new InvalidRecordError(`${name} must be token ids`);
}

function isTopLogprob(a: unknown): boolean {
  if (typeof a !== "object" || a === null) return false;
  const { tokenId, logprob } = a as Record<string, unknown>;
  return Number.isInteger(tokenId) && typeof logprob === "number" && !Number.isNaN(logprob);
}
