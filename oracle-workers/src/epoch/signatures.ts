/**
 * A fast receipt signature check with exactly verifyReceipt's verdict (sdk/src/receipt.ts).
 *
 * verifyReceipt recovers the signer from every signature (a full public-key recovery, ~3 ms in
 * pure JS). Here a node's key is recovered once (same recovery, same verdict); afterwards a
 * signature (r, s, v) over digest h recovers to that key P exactly when
 *   R' = (h/s)·G + (r/s)·P  has x(R') = r and y(R') of parity v - 27,
 * because recovery computes Q = r⁻¹(s·R_v − h·G) for the point R_v with x = r and that parity,
 * and Q = P ⇔ R_v = s⁻¹(h·G + r·P). With window tables for G and P this is two cheap
 * multiplications and one inversion (~5x faster).
 *
 * Only well-formed receipts take this path (`hasFastPathShape`); anything else is answered
 * "fallback" and the caller runs verifyReceipt itself, so odd inputs get the SDK's exact verdict.
 * Imports no viem: the signature workers load this module.
 */
import { secp256k1 } from "@noble/curves/secp256k1";
import { invert } from "@noble/curves/abstract/modular";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { SignedReceipt } from "../../../sdk/src/receipt.ts";
import { checksumAddress } from "../address.ts";
import { receiptDigest } from "./receiptDigest.ts";

type Point = InstanceType<typeof secp256k1.ProjectivePoint>;
const Projective = secp256k1.ProjectivePoint;
const N = secp256k1.CURVE.n;
const ENDO = secp256k1.CURVE.endo!;
const Fp = secp256k1.CURVE.Fp;

/**
 * A point with window tables for itself and its endomorphism image λ·P = (β·x, y): noble's
 * table-based multiplyUnsafe covers 128-bit scalars only (the tables are sized for GLV halves;
 * a full scalar gives a wrong point in @noble/curves 1.9), so scalars are split here first.
 */
type TabledPoint = { readonly point: Point; readonly lambda: Point };

function tabled(point: Point, window: number): TabledPoint {
  const lambda = new Projective(Fp.mul(point.px, ENDO.beta), point.py, point.pz);
  if (window > 0) {
    for (const p of [point, lambda]) {
      p._setWindowSize(window);
      p.multiply(2n); // builds the table (multiplyUnsafe only uses one that exists)
    }
  }
  return { point, lambda };
}

/** k·P for any scalar 0 <= k < n, as k1·P + k2·λP with |k1|, |k2| < 2^128. */
function multiply(table: TabledPoint, k: bigint): Point {
  const { k1neg, k1, k2neg, k2 } = ENDO.splitScalar(k);
  const a = table.point.multiplyUnsafe(k1);
  const b = table.lambda.multiplyUnsafe(k2);
  return (k1neg ? a.negate() : a).add(k2neg ? b.negate() : b);
}

const G = tabled(Projective.BASE, 8);
/** Half the group order, as sdk/src/signature.ts: a larger s is not canonical. */
const HALF_N = N >> 1n;

export const SIGNATURE_INVALID = 0;
export const SIGNATURE_VALID = 1;
/** Not decided here: run verifyReceipt. */
export const SIGNATURE_FALLBACK = 2;
export type SignatureStatus = typeof SIGNATURE_INVALID | typeof SIGNATURE_VALID | typeof SIGNATURE_FALLBACK;

const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const HEX_BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const HEX_SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
const UINT32_MAX = 2 ** 32 - 1;
const isUint = (v: unknown, max: number): boolean => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;

/**
 * Whether the receipt is well formed in every way verifyReceipt (and viem's typed-data
 * validation under it) checks, so that only the signature itself decides.
 */
export function hasFastPathShape(signed: SignedReceipt): boolean {
  const r = signed.receipt;
  if (typeof r !== "object" || r === null) return false;
  if (!isUint(signed.chainId, Number.MAX_SAFE_INTEGER)) return false;
  if (typeof signed.signature !== "string" || !HEX_SIGNATURE.test(signed.signature)) return false;
  if (typeof r.requestId !== "string" || typeof r.modelId !== "string") return false;
  // viem's strict isAddress: lower case, or a valid EIP-55 checksum.
  if (typeof r.node !== "string" || !HEX_ADDRESS.test(r.node)) return false;
  if (r.node !== r.node.toLowerCase() && checksumAddress(r.node) !== r.node) return false;
  for (const hash of [r.promptHash, r.outputHash, r.logprobsHash]) {
    if (typeof hash !== "string" || !HEX_BYTES32.test(hash)) return false;
  }
  for (const value of [r.promptTokens, r.outputTokens, r.firstTokenMs, r.totalMs]) if (!isUint(value, UINT32_MAX)) return false;
  return isUint(r.startedAt, Number.MAX_SAFE_INTEGER);
}

function bytesToBigint(bytes: Uint8Array): bigint {
  let hex = "0x";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return BigInt(hex);
}

function addressOfPoint(point: Point): string {
  const hash = keccak_256(point.toRawBytes(false).subarray(1));
  let hex = "0x";
  for (const byte of hash.subarray(12)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Node keys (lower-case address → public key) learnt by full recovery, reused for later receipts. */
export class NodeKeyCache {
  private readonly keys = new Map<string, TabledPoint>();
  private readonly windowFor: (node: string) => number;
  /**
   * @param windowFor window size of the precomputed table for a node (bigger: faster checks,
   *   dearer set-up; worth it for nodes with many receipts); 0 for none.
   */
  constructor(windowFor: (node: string) => number = () => 4) {
    this.windowFor = windowFor;
  }

  get(node: string): TabledPoint | undefined {
    return this.keys.get(node);
  }

  add(node: string, key: Point): void {
    this.keys.set(node, tabled(key, this.windowFor(node)));
  }
}

/** verifyReceipt's verdict (valid ⇔ signed by receipt.node), or FALLBACK for odd input. */
export function checkReceiptSignature(signed: SignedReceipt, keys: NodeKeyCache): SignatureStatus {
  if (!hasFastPathShape(signed)) return SIGNATURE_FALLBACK;
  const signature = signed.signature;
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if (s > HALF_N || (v !== 27 && v !== 28)) return SIGNATURE_INVALID; // checkCanonicalSignature
  if (r === 0n || r >= N || s === 0n) return SIGNATURE_FALLBACK; // let the SDK judge the degenerate ones
  const digest = receiptDigest(signed.receipt, signed.chainId);
  const node = signed.receipt.node.toLowerCase();
  const key = keys.get(node);
  if (key === undefined) {
    let recovered: Point;
    try {
      recovered = new secp256k1.Signature(r, s).addRecoveryBit(v - 27).recoverPublicKey(digest);
    } catch {
      return SIGNATURE_INVALID;
    }
    if (addressOfPoint(recovered) !== node) return SIGNATURE_INVALID;
    keys.add(node, recovered);
    return SIGNATURE_VALID;
  }
  const h = bytesToBigint(digest) % N;
  const sInverse = invert(s, N);
  const point = multiply(G, (h * sInverse) % N).add(multiply(key, (r * sInverse) % N));
  if (point.equals(Projective.ZERO)) return SIGNATURE_INVALID;
  const { x, y } = point.toAffine();
  return x === r && Number(y & 1n) === v - 27 ? SIGNATURE_VALID : SIGNATURE_INVALID;
}

/** Statuses of a batch, with window sizes by how many receipts each node has in it. */
export function checkReceiptSignatures(batch: readonly SignedReceipt[]): Uint8Array {
  const counts = new Map<string, number>();
  for (const signed of batch) {
    const node = typeof signed.receipt?.node === "string" ? signed.receipt.node.toLowerCase() : "";
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  const keys = new NodeKeyCache((node) => {
    const count = counts.get(node) ?? 0;
    return count >= 256 ? 8 : count >= 8 ? 4 : 0;
  });
  const statuses = new Uint8Array(batch.length);
  for (let i = 0; i < batch.length; i++) statuses[i] = checkReceiptSignature(batch[i]!, keys);
  return statuses;
}
