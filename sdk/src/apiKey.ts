/**
 * API keys: a CreditVault spend grant, signed by the depositing account, carried as one string.
 * The gateway needs nothing else to check a key: the grant says who pays, which gateway may spend,
 * in which asset, how much and until when; chainId and vault name the CreditVault whose EIP-712
 * domain the signature covers, so tampering with any field, the chain or the vault breaks it.
 *
 * Format: "pod_" + base64url (no padding) of the v1 binary layout:
 *
 *   version   1 byte   (1)
 *   chainId   uint     (1-byte length, then minimal big-endian bytes; at most 6 bytes)
 *   vault     20 bytes
 *   account   20 bytes
 *   gateway   20 bytes
 *   asset     20 bytes
 *   cap       uint     (at most 32 bytes)
 *   expiry    uint     (at most 8 bytes)
 *   nonce     uint     (at most 32 bytes)
 *   signature 65 bytes (r, s, v; ECDSA only: smart-account signatures would need a new version)
 *
 * Integers are minimal (no leading zero byte; zero is length 0) and nothing may follow the
 * signature, so each grant has exactly one key: keys can serve as cache keys.
 *
 * @example
 * const key = await createApiKey(account, grant, { chainId, vault });
 * const parsed = parseApiKey(key);            // throws ApiKeyError on a malformed key
 * const { signer } = await verifyApiKey(parsed, { chainId, vault, gateway });
 */
import { bytesToHex, getAddress, hashStruct, hexToBytes, isAddressEqual, recoverTypedDataAddress, type Address, type Hex, type TypedDataDefinition } from "viem";
import { checkCanonicalSignature } from "./signature.ts";
import { SPEND_GRANT_TYPES, settlementDomain, type SpendGrant } from "./typedData.ts";

export const API_KEY_PREFIX = "pod_";
export const API_KEY_VERSION = 1;
/** Longer strings are refused before decoding (a v1 key is at most 308 characters). */
export const API_KEY_MAX_LENGTH = 512;

const ADDRESS_BYTES = 20;
const SIGNATURE_BYTES = 65;
/** Byte limits of the variable-length integers: chainId stays a safe JS integer (2^48). */
const MAX_BYTES = { chainId: 6, cap: 32, expiry: 8, nonce: 32 } as const;

export type ApiKeyErrorCode =
  /** Not "pod_" + base64url, truncated, trailing bytes, or a non-minimal integer. */
  | "malformed"
  | "unsupported_version"
  /** High s or v other than 27/28: valid keys have one signature only. */
  | "non_canonical_signature"
  /** The signature does not recover to the grant's account. */
  | "invalid_signature"
  | "wrong_chain"
  | "wrong_vault"
  | "wrong_gateway";

export class ApiKeyError extends Error {
  override readonly name = "ApiKeyError";
  readonly code: ApiKeyErrorCode;
  constructor(code: ApiKeyErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export type ParsedApiKey = {
  version: typeof API_KEY_VERSION;
  chainId: number;
  /** The CreditVault the grant is for (its EIP-712 verifying contract). */
  vault: Address;
  grant: SpendGrant;
  signature: Hex;
};

/** Signs EIP-712 typed data: a viem LocalAccount, or a WalletClient with its account set. */
export type GrantSigner = {
  signTypedData(parameters: TypedDataDefinition<typeof SPEND_GRANT_TYPES, "SpendGrant">): Promise<Hex>;
};

/** The grant id: its EIP-712 struct hash, as CreditVault.grantId computes it. */
export function grantIdOf(grant: SpendGrant): Hex {
  return hashStruct({ data: grant, primaryType: "SpendGrant", types: SPEND_GRANT_TYPES });
}

/**
 * Signs `grant` with `signer` (who must be `grant.account`) and encodes the key. Throws
 * ApiKeyError("invalid_signature") when the signature is not the account's, e.g. a wallet
 * that signed with another account.
 */
export async function createApiKey(signer: GrantSigner, grant: SpendGrant, target: { chainId: number; vault: Address }): Promise<string> {
  const signature = await signer.signTypedData({ ...typedGrant(grant, target), message: grant });
  const parsed: ParsedApiKey = { version: API_KEY_VERSION, chainId: target.chainId, vault: target.vault, grant, signature };
  const key = encodeApiKey(parsed);
  await verifyApiKey(parseApiKey(key));
  return key;
}

/** Encodes a signed grant; throws RangeError when a field does not fit its Solidity type. */
export function encodeApiKey(parsed: ParsedApiKey): string {
  const { grant } = parsed;
  const signature = hexToBytes(parsed.signature);
  if (signature.length !== SIGNATURE_BYTES) throw new RangeError(`signature must be ${SIGNATURE_BYTES} bytes`);
  const bytes = concat([
    Uint8Array.of(parsed.version),
    encodeUint(BigInt(parsed.chainId), MAX_BYTES.chainId, "chainId"),
    hexToBytes(getAddress(parsed.vault)),
    hexToBytes(getAddress(grant.account)),
    hexToBytes(getAddress(grant.gateway)),
    hexToBytes(getAddress(grant.asset)),
    encodeUint(grant.cap, MAX_BYTES.cap, "cap"),
    encodeUint(grant.expiry, MAX_BYTES.expiry, "expiry"),
    encodeUint(grant.nonce, MAX_BYTES.nonce, "nonce"),
    signature,
  ]);
  return API_KEY_PREFIX + Buffer.from(bytes).toString("base64url");
}

/** Decodes a key strictly; throws ApiKeyError ("malformed" or "unsupported_version"). */
export function parseApiKey(key: string): ParsedApiKey {
  if (typeof key !== "string" || !key.startsWith(API_KEY_PREFIX)) throw malformed(`an API key starts with "${API_KEY_PREFIX}"`);
  if (key.length > API_KEY_MAX_LENGTH) throw malformed(`an API key is at most ${API_KEY_MAX_LENGTH} characters`);
  const body = key.slice(API_KEY_PREFIX.length);
  // Node's decoder skips foreign characters and stray bits: check the alphabet and round trip.
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw malformed("an API key's body is base64url without padding");
  const bytes = new Uint8Array(Buffer.from(body, "base64url"));
  if (Buffer.from(bytes).toString("base64url") !== body) throw malformed("an API key's body is not canonical base64url");

  const reader = new ByteReader(bytes);
  const version = reader.byte();
  if (version !== API_KEY_VERSION) throw new ApiKeyError("unsupported_version", `API key version ${version} is not supported (expected ${API_KEY_VERSION})`);
  const chainId = Number(reader.uint(MAX_BYTES.chainId, "chainId"));
  if (chainId === 0) throw malformed("chainId must not be 0");
  const vault = reader.address();
  const grant: SpendGrant = {
    account: reader.address(),
    gateway: reader.address(),
    asset: reader.address(),
    cap: reader.uint(MAX_BYTES.cap, "cap"),
    expiry: reader.uint(MAX_BYTES.expiry, "expiry"),
    nonce: reader.uint(MAX_BYTES.nonce, "nonce"),
  };
  const signature = bytesToHex(reader.take(SIGNATURE_BYTES, "signature"));
  if (!reader.done()) throw malformed("unexpected bytes after the signature");
  return { version, chainId, vault, grant, signature };
}

/**
 * Checks that the key's signature is canonical and the grant account's, and (when given) that
 * the key is for this chain, vault and gateway. Throws ApiKeyError; returns the signer.
 * ECDSA only: an account that signs through ERC-1271 (a smart account) cannot make a v1 key.
 */
export async function verifyApiKey(parsed: ParsedApiKey, expect: { chainId?: number; vault?: Address; gateway?: Address } = {}): Promise<{ signer: Address }> {
  if (expect.chainId !== undefined && parsed.chainId !== expect.chainId) throw new ApiKeyError("wrong_chain", `key is for chain ${parsed.chainId}, not ${expect.chainId}`);
  if (expect.vault !== undefined && !isAddressEqual(parsed.vault, expect.vault)) throw new ApiKeyError("wrong_vault", `key is for vault ${parsed.vault}, not ${expect.vault}`);
  if (expect.gateway !== undefined && !isAddressEqual(parsed.grant.gateway, expect.gateway)) {
    throw new ApiKeyError("wrong_gateway", `key grants gateway ${parsed.grant.gateway}, not ${expect.gateway}`);
  }
  const canonical = checkCanonicalSignature(parsed.signature);
  if (canonical !== undefined) throw new ApiKeyError("non_canonical_signature", canonical);
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({ ...typedGrant(parsed.grant, parsed), signature: parsed.signature });
  } catch (error) {
    throw new ApiKeyError("invalid_signature", `signature does not recover: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isAddressEqual(signer, parsed.grant.account)) throw new ApiKeyError("invalid_signature", `signed by ${signer}, not by the grant's account ${parsed.grant.account}`);
  return { signer };
}

function typedGrant(grant: SpendGrant, target: { chainId: number; vault: Address }) {
  return {
    domain: settlementDomain("creditVault", target.chainId, target.vault),
    types: SPEND_GRANT_TYPES,
    primaryType: "SpendGrant",
    message: grant,
  } as const;
}

const malformed = (message: string) => new ApiKeyError("malformed", message);

function encodeUint(value: bigint, maxBytes: number, field: string): Uint8Array {
  if (value < 0n || value >= 1n << BigInt(8 * maxBytes)) throw new RangeError(`${field} must fit in ${maxBytes} unsigned bytes`);
  const hex = value === 0n ? "" : value.toString(16);
  const digits = hex.length % 2 === 0 ? hex : `0${hex}`;
  const bytes = digits === "" ? new Uint8Array(0) : hexToBytes(`0x${digits}`);
  return concat([Uint8Array.of(bytes.length), bytes]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads the layout front to back; every short read or non-minimal integer is "malformed". */
class ByteReader {
  readonly #bytes: Uint8Array;
  #at = 0;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }
  take(length: number, field: string): Uint8Array {
    if (this.#at + length > this.#bytes.length) throw malformed(`key ends inside ${field}`);
    const out = this.#bytes.subarray(this.#at, this.#at + length);
    this.#at += length;
    return out;
  }
  byte(): number {
    return this.take(1, "version")[0] as number;
  }
  address(): Address {
    return getAddress(bytesToHex(this.take(ADDRESS_BYTES, "an address")));
  }
  uint(maxBytes: number, field: string): bigint {
    const length = this.take(1, field)[0] as number;
    if (length > maxBytes) throw malformed(`${field} is longer than ${maxBytes} bytes`);
    const bytes = this.take(length, field);
    if (length > 0 && bytes[0] === 0) throw malformed(`${field} has a leading zero byte`);
    return length === 0 ? 0n : BigInt(bytesToHex(bytes));
  }
  done(): boolean {
    return this.#at === this.#bytes.length;
  }
}
