/**
 * One oracle's signature over an epoch's root, and its JSON form (what
 * `GET /epochs/:n/signature` serves): uint256 fields travel as decimal strings.
 *
 * @example
 * const own = await signEpochRoot(oracleKey, epochRoot, { chainId, distributor });
 * const body = JSON.stringify(signedEpochRootToJson(own));
 * const back = parseSignedEpochRoot(JSON.parse(body), "http://oracle-b:8700");
 */
import { getAddress, hashTypedData, isAddress, isHex, recoverTypedDataAddress, type Address, type Hex, type LocalAccount } from "viem";
import { checkCanonicalSignature } from "../../../sdk/src/signature.ts";
import { EPOCH_ROOT_TYPES, settlementDomain, type EpochRoot } from "../../../sdk/src/typedData.ts";

export type SignedEpochRoot = { epochRoot: EpochRoot; signer: Address; signature: Hex };

/** Where a signature is valid: the RewardsDistributor's EIP-712 domain. */
export type EpochRootDomain = { chainId: number; distributor: Address };

export type EpochRootJson = { epoch: string; root: Hex; total: string; reportHash: Hex; validatorsRoot: Hex };
export type SignedEpochRootJson = { epoch: number; epochRoot: EpochRootJson; signer: Address; signature: Hex };

/** A malformed signed root; `source` names the peer or file, `field` where. */
export class SignedEpochRootError extends Error {
  override name = "SignedEpochRootError";
  readonly source: string;
  readonly field: string;
  constructor(source: string, field: string, message: string) {
    super(`${source}: ${field}: ${message}`);
    this.source = source;
    this.field = field;
  }
}

export const EPOCH_ROOT_FIELDS = ["epoch", "root", "total", "reportHash", "validatorsRoot"] as const;
export type EpochRootField = (typeof EPOCH_ROOT_FIELDS)[number];

const UINT256_MAX = 2n ** 256n - 1n;
const DECIMAL = /^(0|[1-9]\d{0,77})$/;

export function epochRootToJson(root: EpochRoot): EpochRootJson {
  return { epoch: root.epoch.toString(), root: root.root, total: root.total.toString(), reportHash: root.reportHash, validatorsRoot: root.validatorsRoot };
}

export function signedEpochRootToJson(signed: SignedEpochRoot): SignedEpochRootJson {
  return { epoch: Number(signed.epochRoot.epoch), epochRoot: epochRootToJson(signed.epochRoot), signer: signed.signer, signature: signed.signature };
}

export function serializeSignedEpochRoot(signed: SignedEpochRoot): string {
  return JSON.stringify(signedEpochRootToJson(signed));
}

/** Validates untrusted JSON into an EpochRoot (fields are checked, not the signature). */
export function parseEpochRoot(raw: unknown, source: string, path = "epochRoot"): EpochRoot {
  const o = objectAt(raw, source, path);
  const uint = (key: "epoch" | "total"): bigint => {
    const v = o[key];
    if (typeof v !== "string" || !DECIMAL.test(v) || BigInt(v) > UINT256_MAX) throw new SignedEpochRootError(source, `${path}.${key}`, "must be a uint256 as a decimal string");
    return BigInt(v);
  };
  const bytes32 = (key: "root" | "reportHash" | "validatorsRoot"): Hex => {
    const v = o[key];
    if (typeof v !== "string" || !isHex(v, { strict: true }) || v.length !== 66) throw new SignedEpochRootError(source, `${path}.${key}`, "must be 32 bytes of hex");
    return v.toLowerCase() as Hex;
  };
  return { epoch: uint("epoch"), root: bytes32("root"), total: uint("total"), reportHash: bytes32("reportHash"), validatorsRoot: bytes32("validatorsRoot") };
}

/** Validates untrusted JSON into a SignedEpochRoot; the signer is checksummed. */
export function parseSignedEpochRoot(raw: unknown, source: string): SignedEpochRoot {
  const o = objectAt(raw, source, "body");
  const epochRoot = parseEpochRoot(o.epochRoot, source);
  if (o.epoch !== Number(epochRoot.epoch)) throw new SignedEpochRootError(source, "epoch", "must equal epochRoot.epoch");
  if (typeof o.signer !== "string" || !isAddress(o.signer)) throw new SignedEpochRootError(source, "signer", "must be an address");
  if (typeof o.signature !== "string" || !isHex(o.signature)) throw new SignedEpochRootError(source, "signature", "must be hex");
  const problem = checkCanonicalSignature(o.signature);
  if (problem !== undefined) throw new SignedEpochRootError(source, "signature", problem);
  return { epochRoot, signer: getAddress(o.signer), signature: o.signature.toLowerCase() as Hex };
}

/** The digest the oracles sign (RewardsDistributor.epochRootDigest). */
export function epochRootDigest(epochRoot: EpochRoot, domain: EpochRootDomain): Hex {
  return hashTypedData({ domain: settlementDomain("rewardsDistributor", domain.chainId, domain.distributor), types: EPOCH_ROOT_TYPES, primaryType: "EpochRoot", message: epochRoot });
}

export async function signEpochRoot(key: LocalAccount, epochRoot: EpochRoot, domain: EpochRootDomain): Promise<SignedEpochRoot> {
  const signature = await key.signTypedData({
    domain: settlementDomain("rewardsDistributor", domain.chainId, domain.distributor),
    types: EPOCH_ROOT_TYPES,
    primaryType: "EpochRoot",
    message: epochRoot,
  });
  return { epochRoot, signer: getAddress(key.address), signature };
}

/** The address whose key produced `signature` over `epochRoot` in the distributor's domain. */
export async function recoverEpochRootSigner(epochRoot: EpochRoot, signature: Hex, domain: EpochRootDomain): Promise<Address> {
  return getAddress(
    await recoverTypedDataAddress({
      domain: settlementDomain("rewardsDistributor", domain.chainId, domain.distributor),
      types: EPOCH_ROOT_TYPES,
      primaryType: "EpochRoot",
      message: epochRoot,
      signature,
    }),
  );
}

/** The fields in which two roots differ, in EPOCH_ROOT_FIELDS order (hex compared case-blind). */
export function epochRootDiff(theirs: EpochRoot, ours: EpochRoot): EpochRootField[] {
  return EPOCH_ROOT_FIELDS.filter((field) => {
    const a = theirs[field];
    const b = ours[field];
    return typeof a === "string" && typeof b === "string" ? a.toLowerCase() !== b.toLowerCase() : a !== b;
  });
}

/** Ascending by address as a number, as RewardsDistributor demands of the signers. */
export function compareSigners(a: Address, b: Address): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function objectAt(raw: unknown, source: string, path: string): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new SignedEpochRootError(source, path, "must be an object");
  return raw as Record<string, unknown>;
}
