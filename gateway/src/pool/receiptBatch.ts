/**
 * The pool's receipt check, batched over the receipts that arrive together. Each check is
 * ReceiptVerifier's (sdk/src/receiptCheck/verifier.ts): the node's key is recovered once, then
 * a receipt (r, s, v) over digest h is valid exactly when R' = (h/s)·G + (r/s)·P has x = r and
 * y of parity v - 27. Two modular inversions dominate that check when done alone (s⁻¹ mod n, and
 * Z⁻¹ to read R' in affine form: ~0.2 ms each in bigint arithmetic, about 40% of a check); here
 * every receipt queued in the same event-loop turn shares one of each (Montgomery's trick), and
 * G's table has 10-bit windows (fewer additions; built once per process). Busy nodes' keys get
 * 9-bit tables too (32 additions per check instead of 46; ~0.6 MB and ~0.1 s to build each, so
 * only for a few: the keys that sent `hotAfter` receipts, at most `maxHot` at a time).
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
  /** Receipts after which a node's key gets the busy nodes' table; default 1,000. */
  hotAfter?: number;
  /** Busy nodes' tables kept at most; default 16 (one idle for a minute makes room for another). */
  maxHot?: number;
  /** Window size of busy nodes' tables; default 9. */
  hotWindow?: number;
  now?: () => number;
};

/** A busy node's table goes back to the small one after this long without a receipt, when room is needed. */
const HOT_IDLE_MS = 60_000;

export class BatchedReceiptVerifier implements ReceiptChecker {
  readonly #keys: NodeKeyCache;
  readonly #hotAfter: number;
  readonly #maxHot: number;
  readonly #now: () => number;
  /** Receipts checked per node key not yet busy (reset when it gets too large to matter). */
  readonly #counts = new Map<string, number>();
  /** Busy node keys (big tables) and when each last had a receipt. */
  readonly #hot = new Map<string, number>();
  #queue: Queued[] = [];
  #scheduled = false;

  constructor(options: BatchedReceiptVerifierOptions = {}) {
    const window = options.window ?? 6;
    const hotWindow = options.hotWindow ?? 9;
    this.#hotAfter = options.hotAfter ?? 1_000;
    this.#maxHot = options.maxHot ?? 16;
    this.#now = options.now ?? Date.now;
    this.#keys = new NodeKeyCache((node) => (this.#hot.has(node) ? hotWindow : window), options.maxNodes ?? 1_024);
  }

  get cachedNodes(): number {
    return this.#keys.size;
  }

  /** Node keys with the busy nodes' table. */
  get hotNodes(): number {
    return this.#hot.size;
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
    pending.forEach((p, i) => {
      if (valid[i] !== true) return sdkVerdict(p.item);
      this.#signerCheck(p.item);
      this.#noteReceipt(p.item.signed.receipt.node.toLowerCase(), p.key);
    });
  }

  /** Counts a node's receipts; a busy one gets the big table (rebuilt from its key, Q = table entry 0). */
  #noteReceipt(node: string, key: WindowTable): void {
    const now = this.#now();
    if (this.#hot.has(node)) {
      this.#hot.set(node, now);
      return;
    }
    const count = (this.#counts.get(node) ?? 0) + 1;
    if (count < this.#hotAfter) {
      if (this.#counts.size > 4 * this.#keys.size + 64) this.#counts.clear(); // keys long gone
      this.#counts.set(node, count);
      return;
    }
    if (this.#hot.size >= this.#maxHot && !this.#demoteIdle(now)) return;
    this.#counts.delete(node);
    this.#hot.set(node, now);
    this.#keys.add(node, pointOf(key));
  }

  /** Makes room among busy keys: the longest idle goes back to a small table, if idle long enough. */
  #demoteIdle(now: number): boolean {
    let idlest: [string, number] | undefined;
    for (const entry of this.#hot) if (idlest === undefined || entry[1] < idlest[1]) idlest = entry;
    if (idlest === undefined || now - idlest[1] < HOT_IDLE_MS) return false;
    const [node] = idlest;
    this.#hot.delete(node);
    const table = this.#keys.get(node);
    if (table !== undefined) this.#keys.add(node, pointOf(table));
    return true;
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

/** The key a table was built for: its first entry is 1·Q. */
function pointOf(table: WindowTable): InstanceType<typeof secp256k1.ProjectivePoint> {
  return secp256k1.ProjectivePoint.fromAffine({ x: table.xs[0]!, y: table.ys[0]! });
}

function bytesToBigint(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString("hex")}`);
}
