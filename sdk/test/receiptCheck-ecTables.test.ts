import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { secp256k1 } from "@noble/curves/secp256k1";
import { addAffine, addMultiple, buildTable, infinity, toAffineBatch } from "../src/receiptCheck/ecTables.ts";

const Point = secp256k1.ProjectivePoint;
const N = secp256k1.CURVE.n;

/** Deterministic scalars spread over [0, n), with the edges. */
function scalars(count: number): bigint[] {
  const list = [0n, 1n, 2n, N - 1n, N - 2n, (N - 1n) / 2n, 1n << 128n, (1n << 128n) - 1n];
  let x = 0x9e3779b97f4a7c15n;
  while (list.length < count) {
    x = (x * 6364136223846793005n + 1442695040888963407n) % (1n << 256n);
    list.push(x % N);
  }
  return list;
}

describe("secp256k1 window tables", () => {
  for (const window of [4, 6, 8, 10, 12]) {
    it(`k·Q with ${window}-bit windows equals @noble/curves' multiply`, () => {
      const Q = Point.BASE.multiply(0xc0ffeen + BigInt(window));
      const { x, y } = Q.toAffine();
      const table = buildTable(x, y, window);
      const ks = scalars(window >= 10 ? 12 : 40);
      const points = ks.map((k) => {
        const acc = infinity();
        addMultiple(acc, table, k);
        return acc;
      });
      toAffineBatch(points).forEach((got, i) => {
        const want = ks[i] === 0n ? undefined : Q.multiply(ks[i]!).toAffine();
        assert.deepEqual(got, want, `k = ${ks[i]}`);
      });
    });
  }

  it("adding a point to itself doubles it; adding its negation gives infinity", () => {
    const { x, y } = Point.BASE.multiply(12345n).toAffine();
    const twice = infinity();
    addAffine(twice, x, y);
    addAffine(twice, x, y);
    assert.deepEqual(toAffineBatch([twice])[0], Point.BASE.multiply(24690n).toAffine());
    const none = infinity();
    addAffine(none, x, y);
    addAffine(none, x, secp256k1.CURVE.Fp.ORDER - y);
    assert.equal(toAffineBatch([none])[0], undefined);
  });
});
