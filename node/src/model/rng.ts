/**
 * Deterministic pseudo-random numbers from integer arithmetic only (no Math.log/cos), so a
 * seed gives bit-identical weights on every machine and every JavaScript engine.
 */

/** FNV-1a over a string: turns a readable seed such as "pod-gpt2-tiny/0" into 32 bits. */
export function hashSeed(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** xoshiro128** generator: 32-bit outputs, period 2^128 - 1. */
export class Xoshiro128 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // SplitMix32 expands one seed word into a non-zero state.
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Fills `out` with uniform values of the given standard deviation (half-width std * sqrt(3)).
 * A uniform init keeps the build free of transcendental functions; the network does not care.
 */
export function fillUniform(out: Float32Array, rng: Xoshiro128, std: number): void {
  const halfWidth = std * Math.sqrt(3);
  for (let i = 0; i < out.length; i++) {
    out[i] = (rng.nextUint32() / 2147483648 - 1) * halfWidth;
  }
}
