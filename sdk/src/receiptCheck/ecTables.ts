/**
 * secp256k1 multiplication by fixed points, for signature checks against known public keys:
 * precomputed affine window tables, signed-digit (wNAF) windows over GLV half scalars, and a
 * Jacobian accumulator with mixed (Jacobian + affine) additions on plain bigint field ops.
 * ~3x faster than @noble/curves' complete projective formulas for this one job; the signature
 * tests check every verdict against the SDK's verifyReceipt.
 *
 * Exceptional cases are handled exactly: adding a point to itself doubles, adding its negation
 * gives the point at infinity (Z = 0).
 */
import { secp256k1 } from "@noble/curves/secp256k1";
import { FpInvertBatch } from "@noble/curves/abstract/modular";

const Fp = secp256k1.CURVE.Fp;
const P = Fp.ORDER;
const ENDO = secp256k1.CURVE.endo!;
const BETA = ENDO.beta;

const mul = (a: bigint, b: bigint): bigint => (a * b) % P;
const add = (a: bigint, b: bigint): bigint => {
  const s = a + b;
  return s >= P ? s - P : s;
};
const sub = (a: bigint, b: bigint): bigint => (a >= b ? a - b : a - b + P);

/** A point in Jacobian coordinates (x = X/Z², y = Y/Z³); Z = 0 is the point at infinity. */
export type Jacobian = { X: bigint; Y: bigint; Z: bigint };

export const infinity = (): Jacobian => ({ X: 1n, Y: 1n, Z: 0n });

/** acc = 2·acc (dbl-2009-l, a = 0). */
function double(acc: Jacobian): void {
  if (acc.Z === 0n) return;
  const A = mul(acc.X, acc.X);
  const B = mul(acc.Y, acc.Y);
  const C = mul(B, B);
  const t = add(acc.X, B);
  const halfD = sub(sub(mul(t, t), A), C);
  const D = add(halfD, halfD);
  const E = add(add(A, A), A);
  const X3 = sub(mul(E, E), add(D, D));
  const C8 = add(add(add(C, C), add(C, C)), add(add(C, C), add(C, C)));
  const Y3 = sub(mul(E, sub(D, X3)), C8);
  acc.Z = mul(add(acc.Y, acc.Y), acc.Z);
  acc.X = X3;
  acc.Y = Y3;
}

/** acc = acc + (x2, y2) for an affine point (madd: U1 = X1, S1 = Y1). */
export function addAffine(acc: Jacobian, x2: bigint, y2: bigint): void {
  if (acc.Z === 0n) {
    acc.X = x2;
    acc.Y = y2;
    acc.Z = 1n;
    return;
  }
  const Z1Z1 = mul(acc.Z, acc.Z);
  const H = sub(mul(x2, Z1Z1), acc.X);
  const r = sub(mul(mul(y2, acc.Z), Z1Z1), acc.Y);
  if (H === 0n) {
    if (r === 0n) double(acc);
    else acc.Z = 0n; // the negation: infinity
    return;
  }
  const HH = mul(H, H);
  const HHH = mul(H, HH);
  const V = mul(acc.X, HH);
  const X3 = sub(sub(mul(r, r), HHH), add(V, V));
  acc.Y = sub(mul(r, sub(V, X3)), mul(acc.Y, HHH));
  acc.X = X3;
  acc.Z = mul(acc.Z, H);
}

/** Affine coordinates of many points with one inversion; undefined for infinity. */
export function toAffineBatch(points: readonly Jacobian[]): ({ x: bigint; y: bigint } | undefined)[] {
  const inverses = FpInvertBatch(Fp, points.map((p) => p.Z));
  return points.map((p, i) => {
    const zi = inverses[i];
    if (zi === undefined) return undefined;
    const zi2 = mul(zi, zi);
    return { x: mul(p.X, zi2), y: mul(p.Y, mul(zi2, zi)) };
  });
}

/**
 * d·2^(wW)·Q for every window w and digit d in 1..2^(W-1), affine, plus the x coordinates of the
 * endomorphism images λ·(that) = (β·x, y), so one table serves both GLV halves.
 */
export type WindowTable = { readonly window: number; readonly windows: number; readonly xs: bigint[]; readonly ys: bigint[]; readonly lambdaXs: bigint[] };

export function buildTable(x: bigint, y: bigint, window: number): WindowTable {
  const half = 2 ** (window - 1);
  const windows = Math.ceil(128 / window) + 1; // GLV halves are < 2^128; +1 for the last carry
  // Window bases 2^(wW)·Q by doubling, then each row by additions; two inversions in all.
  const basesJacobian: Jacobian[] = [{ X: x, Y: y, Z: 1n }];
  for (let w = 1; w < windows; w++) {
    const next = { ...basesJacobian[w - 1]! };
    for (let i = 0; i < window; i++) double(next);
    basesJacobian.push(next);
  }
  const bases = toAffineBatch(basesJacobian);
  const entries: Jacobian[] = [];
  for (const base of bases) {
    const cur = infinity();
    for (let d = 1; d <= half; d++) {
      addAffine(cur, base!.x, base!.y);
      entries.push({ ...cur });
    }
  }
  // No entry is infinity: d·2^(wW) < n for every digit d and window w.
  const affine = toAffineBatch(entries);
  const xs = affine.map((point) => point!.x);
  const ys = affine.map((point) => point!.y);
  return { window, windows, xs, ys, lambdaXs: xs.map((v) => mul(v, BETA)) };
}

/** acc += (negate ? -1 : 1)·k·Q (λ·Q when `lambda`) for 0 <= k < 2^128, by signed windows. */
function addHalfMultiple(acc: Jacobian, table: WindowTable, k: bigint, negate: boolean, lambda: boolean): void {
  const { window, windows } = table;
  const half = 2 ** (window - 1);
  const full = 2 ** window;
  const mask = BigInt(full - 1);
  const shift = BigInt(window);
  const xs = lambda ? table.lambdaXs : table.xs;
  let n = k;
  for (let w = 0; w < windows && n > 0n; w++) {
    let digit = Number(n & mask);
    n >>= shift;
    if (digit > half) {
      digit -= full;
      n += 1n;
    }
    if (digit === 0) continue;
    const index = w * half + Math.abs(digit) - 1;
    const y = table.ys[index]!;
    addAffine(acc, xs[index]!, digit < 0 !== negate ? P - y : y);
  }
  if (n > 0n) throw new RangeError("scalar too large for the table");
}

/** acc += k·Q for any scalar 0 <= k < n (split as k1 + k2·λ). */
export function addMultiple(acc: Jacobian, table: WindowTable, k: bigint): void {
  const { k1neg, k1, k2neg, k2 } = ENDO.splitScalar(k);
  addHalfMultiple(acc, table, k1, k1neg, false);
  addHalfMultiple(acc, table, k2, k2neg, true);
}
