/**
 * The pool's receipt check, batched over the receipts that arrive together. Each check is
 * ReceiptVerifier's (sdk/src/receiptCheck/verifier.ts): the node's key is recovered once, then
 * a receipt (r, s, v) over digest h is valid exactly when R' = (h/s)·G + (r/s)·P has x = r and
 * y of parity v - 27. Two modular inversions dominate that check when done alone (s⁻¹ mod n, and
 * Z⁻¹ to read R' in affine form: ~0.2 ms each in bigint arithmetic, about 40% of a check); here
 * every receipt queued in the same event-loop turn shares one of each (Montgomery's trick), and
 * G's table has 10-bit windows (fewer additions; built once per process).
 *
 * Verdicts are verifyReceipt's (sdk/src/receipt.ts): anything not plainly valid, a first
 * receipt from an unknown key, a wrong chain or signer, odd input, takes the SDK's own path,
 * reason string included. A lone receipt waits for no other: the batch is whatever is queued
 * when the current I/O callbacks are done (setImmediate).
 */
import { secp256k1 } from "@noble/curves/secp256k1";
import { Field, FpInvertBatch } from "@noble/curves/abstract/modular";
import type { Address } from "viem";
import { verifyReceipt, type ReceiptCheck, type SignedReceipt } from "../../../sdk/src/receipt.ts";
import { receiptDigest } from "../../../sdk/src/receiptCheck/digest.ts";
import { addMultiple, buildTable, infinity, toAffineBatch, type WindowTable } from "../../../sdk/src/receiptCheck/ecTables.ts";
import { checkReceiptSignature, checksumAddress, hasFastPathShape, NodeKeyCache, SIGNATURE_VALID } from "../../../sdk/src/receiptCheck/signatures.ts";
import type { ReceiptExpectation } from "../../../sdk/src/receiptCheck/verifier.ts";

/** What dispatch needs of a receipt checker (ReceiptVerifier has the same shape). */
export type ReceiptChecker = { verify(signed: SignedReceipt, expect?: ReceiptExpectation): Promise<ReceiptCheck> };

const N = secp256k1.CURVE.n;
const Fn = Field(N);
const HALF_N = N >> 1n;
const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** G's table with 10-bit windows: ~7k points (~1 MB), ~0.15 s to build, once per process. */
const BASE_WINDOW = 10;
let baseTable: WindowTable | undefined;
function gTable(): WindowTable {
  if (baseTable === undefined) {
    const g = secp256k1.ProjectivePoint.BASE.toAffine();
    baseTable = buildTable(g.x, g.y, BASE_WINDOW);
  }
  return baseTable;
}

type Queued = { signed: SignedReceipt; expect: ReceiptExpectation; resolve: (check: ReceiptCheck) => void };
/** A receipt from a known key, for the batched pass. */
type Pending = { item: Queued; r: bigint; s: bigint; parity: number; h: bigint; key: WindowTable };

export type BatchedReceiptVerifierOptions = {
  /** Node keys kept (least recently used go first); default 1,024. */
  maxNodes?: number;
  /** Window size of each node key's table; default 6 (as ReceiptVerifier). */
  window?: number;
};

export class BatchedReceiptVerifier implements ReceiptChecker {
  readonly #keys: NodeKeyCache;
  #queue: Queued[] = [];
  #scheduled = false;

  constructor(options: BatchedReceiptVerifierOptions = {}) {
    const window = options.window ?? 6;
    this.#keys = new NodeKeyCache(() => window, options.maxNodes ?? 1_024);
  }

  get cachedNodes(): number {
    return this.#keys.size;
  }

  /** verifyReceipt(signed, expect)'s verdict. Never throws on bad receipts. */
  verify(signed: SignedReceipt, expect: ReceiptExpectation = {}): Promise<ReceiptCheck> {
    return new Promise((resolve) => {
      this.#queue.push({ signed, expect, resolve });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    this.#scheduled = false;
    const pending: Pending[] = [];
    for (const item of batch) {
      try {
        const ready = this.#firstPass(item);
        if (ready !== undefined) pending.push(ready);
      } catch (error) {
        item.resolve({ valid: false, reason: `receipt check failed: ${String(error)}` });
      }
    }
    if (pending.length === 0) return;
    const valid = checkBatch(pending);
    pending.forEach((p, i) => (valid[i] === true ? this.#signerCheck(p.item) : sdkVerdict(p.item)));
  }

  /** Settles what needs no batched work now; returns the batched work otherwise. */
  #firstPass(item: Queued): Pending | undefined {
    const { signed, expect } = item;
    if (expect.chainId !== undefined && signed.chainId !== expect.chainId) return sdkVerdict(item);
    if (expect.expectedSigner !== undefined && !(typeof expect.expectedSigner === "string" && HEX_ADDRESS.test(expect.expectedSigner))) return sdkVerdict(item);
    if (!hasFastPathShape(signed)) return sdkVerdict(item);
    const signature = signed.signature;
    const r = BigInt(`0x${signature.slice(2, 66)}`);
    const s = BigInt(`0x${signature.slice(66, 130)}`);
    const v = Number.parseInt(signature.slice(130, 132), 16);
    // Non-canonical or degenerate signatures: the SDK's verdict (and reason).
    if (s > HALF_N || (v !== 27 && v !== 28) || r === 0n || r >= N || s === 0n) return sdkVerdict(item);
    const node = signed.receipt.node.toLowerCase();
    const key = this.#keys.get(node);
    if (key === undefined) {
      // First receipt of this key: a full recovery, which also caches the key.
      return checkReceiptSignature(signed, this.#keys) === SIGNATURE_VALID ? this.#signerCheck(item) : sdkVerdict(item);
    }
    return { item, r, s, parity: v - 27, h: bytesToBigint(receiptDigest(signed.receipt, signed.chainId)) % N, key };
  }

  /** The signature is receipt.node's: valid when that is the expected signer. */
  #signerCheck(item: Queued): undefined {
    const signer = checksumAddress(item.signed.receipt.node) as Address;
    const expected = item.expect.expectedSigner;
    if (expected !== undefined && expected.toLowerCase() !== signer.toLowerCase()) item.resolve({ valid: false, reason: `signed by ${signer}, expected ${expected}`, signer });
    else item.resolve({ valid: true, signer });
    return undefined;
  }
}

/** The SDK's own verdict, for everything that is not plainly valid. */
function sdkVerdict(item: Queued): undefined {
  verifyReceipt(item.signed, item.expect).then(item.resolve, (error: unknown) => item.resolve({ valid: false, reason: `receipt check failed: ${String(error)}` }));
  return undefined;
}

/** R' = (h/s)·G + (r/s)·P for each, valid when x(R') = r with the signed parity; one inversion of each kind. */
function checkBatch(pending: readonly Pending[]): boolean[] {
  const base = gTable();
  const sInverses = FpInvertBatch(Fn, pending.map((p) => p.s));
  const points = pending.map((p, i) => {
    const sInverse = sInverses[i]!;
    const acc = infinity();
    addMultiple(acc, base, Fn.mul(p.h, sInverse));
    addMultiple(acc, p.key, Fn.mul(p.r, sInverse));
    return acc;
  });
  const affine = toAffineBatch(points);
  return pending.map((p, i) => {
    const point = affine[i];
    return point !== undefined && point.x === p.r && Number(point.y & 1n) === p.parity;
  });
}

function bytesToBigint(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString("hex")}`);
}
