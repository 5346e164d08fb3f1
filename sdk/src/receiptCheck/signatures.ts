/**
 * A fast receipt signature check with exactly verifyReceipt's verdict (sdk/src/receipt.ts).
 *
 * verifyReceipt recovers the signer from every signature (a full public-key recovery, ~3 ms in
 * pure JS). Here a node's key is recovered once (same recovery, same verdict); afterwards a
 * signature (r, s, v) over digest h recovers to that key P exactly when
 *   R' = (h/s)·G + (r/s)·P  has x(R') = r and y(R') of parity v - 27,
 * because recovery computes Q = r⁻¹(s·R_v − h·G) for the point R_v with x = r and that parity,
 * and Q = P ⇔ R_v = s⁻¹(h·G + r·P). With window tables for G and P (ecTables.ts) this is a
 * few dozen point additions, and the inversions are batched over the whole batch.
 *
 * Only well-formed receipts take this path (`hasFastPathShape`); anything else is answered
 * "fallback" and the caller runs verifyReceipt itself, so odd inputs get the SDK's exact verdict.
 * Imports no viem: the oracle's signature workers load this module (oracle-workers/src/epoch/verify.ts);
 * the gateway uses it through ReceiptVerifier (verifier.ts).
 */
import { secp256k1 } from "@noble/curves/secp256k1";
import { Field, FpInvertBatch } from "@noble/curves/abstract/modular";
import { addMultiple, buildTable, infinity, toAffineBatch, type WindowTable } from "./ecTables.ts";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { SignedReceipt } from "../receipt.ts";
import { receiptDigest } from "./digest.ts";
import { checksumAddress } from "../address.ts";

type Point = InstanceType<typeof secp256k1.ProjectivePoint>;
const N = secp256k1.CURVE.n;
/** Scalars mod the group order. */
const Fn = Field(N);
/** Half the group order, as sdk/src/signature.ts: a larger s is not canonical. */
const HALF_N = N >> 1n;

const gTables = new Map<number, WindowTable>();
/** G's table: 8-bit windows, or 12-bit ones for big batches (~22k points to build, 10 fewer additions per check). */
function gTable(window: number): WindowTable {
  let table = gTables.get(window);
  if (table === undefined) {
    const g = secp256k1.ProjectivePoint.BASE.toAffine();
    table = buildTable(g.x, g.y, window);
    gTables.set(window, table);
  }
  return table;
}

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

export { checksumAddress };

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

/**
 * Node keys (lower-case address → public key table) learnt by full recovery, reused for later
 * receipts. Bounded for long-lived callers: past `maxNodes` the least recently used key goes.
 */
export class NodeKeyCache {
  private readonly keys = new Map<string, WindowTable>();
  private readonly windowFor: (node: string) => number;
  private readonly maxNodes: number;
  /**
   * @param windowFor window size of the precomputed table for a node (bigger: faster checks,
   *   dearer set-up; worth it for nodes with many receipts).
   * @param maxNodes keys kept at most (default: no bound, for one batch).
   */
  constructor(windowFor: (node: string) => number = () => 4, maxNodes = Number.POSITIVE_INFINITY) {
    this.windowFor = windowFor;
    this.maxNodes = maxNodes;
  }

  get size(): number {
    return this.keys.size;
  }

  get(node: string): WindowTable | undefined {
    const table = this.keys.get(node);
    if (table !== undefined && this.maxNodes !== Number.POSITIVE_INFINITY) {
      // Map order is insertion order: re-inserting marks the key most recently used.
      this.keys.delete(node);
      this.keys.set(node, table);
    }
    return table;
  }

  add(node: string, key: Point): void {
    const { x, y } = key.toAffine();
    if (!this.keys.has(node) && this.keys.size >= this.maxNodes) {
      const oldest = this.keys.keys().next();
      if (oldest.done !== true) this.keys.delete(oldest.value);
    }
    this.keys.set(node, buildTable(x, y, this.windowFor(node)));
  }
}

/** A signature whose node key is known: checked in the batched pass. */
type Pending = { readonly index: number; readonly r: bigint; readonly s: bigint; readonly parity: number; readonly h: bigint; readonly key: WindowTable };

/**
 * First pass over one receipt: a verdict when one is due now (odd input, non-canonical
 * signature, first receipt of a node: full recovery), else the work for the batched pass.
 */
function firstPass(signed: SignedReceipt, index: number, keys: NodeKeyCache): SignatureStatus | Pending {
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
  if (key !== undefined) return { index, r, s, parity: v - 27, h: bytesToBigint(digest) % N, key };
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

/**
 * R' = (h/s)·G + (r/s)·P for each pending signature, valid when x(R') = r with the signed parity.
 * The inversions (of s mod n, of Z for affine coordinates) are batched: one each per batch.
 */
function secondPass(pending: readonly Pending[], statuses: Uint8Array, bigBaseTableFrom: number): void {
  const base = gTable(pending.length >= bigBaseTableFrom ? 12 : 8);
  const sInverses = FpInvertBatch(Fn, pending.map((p) => p.s));
  const points = pending.map((p, j) => {
    const sInverse = sInverses[j]!;
    const acc = infinity();
    addMultiple(acc, base, Fn.mul(p.h, sInverse));
    addMultiple(acc, p.key, Fn.mul(p.r, sInverse));
    return acc;
  });
  const affine = toAffineBatch(points);
  pending.forEach((p, j) => {
    const point = affine[j];
    statuses[p.index] = point !== undefined && point.x === p.r && Number(point.y & 1n) === p.parity ? SIGNATURE_VALID : SIGNATURE_INVALID;
  });
}

/**
 * One receipt's status against a long-lived key cache (the gateway's ReceiptVerifier): VALID ⇔
 * verifyReceipt would find it signed by receipt.node; FALLBACK for odd input.
 */
export function checkReceiptSignature(signed: SignedReceipt, keys: NodeKeyCache): SignatureStatus {
  const first = firstPass(signed, 0, keys);
  if (typeof first === "number") return first;
  const statuses = new Uint8Array(1);
  secondPass([first], statuses, BIG_BASE_TABLE_FROM);
  return statuses[0] as SignatureStatus;
}

/** Batches with at least this many checks use G's 12-bit table (it pays for itself after ~2k). */
const BIG_BASE_TABLE_FROM = 4_000;

/**
 * verifyReceipt's verdict for each receipt (VALID ⇔ signed by receipt.node), or FALLBACK for odd
 * input. Window sizes follow how many receipts each node has in the batch.
 */
export function checkReceiptSignatures(batch: readonly SignedReceipt[], options: { bigBaseTableFrom?: number } = {}): Uint8Array {
  const counts = new Map<string, number>();
  for (const signed of batch) {
    const node = typeof signed.receipt?.node === "string" ? signed.receipt.node.toLowerCase() : "";
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  // A key's table costs ~1.3·(128/W + 1)·2^(W-1) point additions to build and each check
  // 2·(128/W + 1); these thresholds are where each window size starts to pay for itself.
  const keys = new NodeKeyCache((node) => {
    const count = counts.get(node) ?? 0;
    return count >= 1_100 ? 10 : count >= 190 ? 8 : count >= 26 ? 6 : 4;
  });
  const statuses = new Uint8Array(batch.length);
  const pending: Pending[] = [];
  for (let i = 0; i < batch.length; i++) {
    const first = firstPass(batch[i]!, i, keys);
    if (typeof first === "number") statuses[i] = first;
    else pending.push(first);
  }
  if (pending.length > 0) secondPass(pending, statuses, options.bigBaseTableFrom ?? BIG_BASE_TABLE_FROM);
  return statuses;
}
