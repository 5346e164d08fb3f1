/**
 * Deterministic pseudo-random numbers from integer arithmetic only (no Math.log/cos), so a
 * seed gives bit-identical weights on every machine and every JavaScript engine. The generator
 * itself is the protocol's sampling RNG (sdk/src/sampling.ts); the model build reuses it.
 */
import { Xoshiro128 } from "../../../sdk/src/sampling.ts";

export { Xoshiro128 };

/** FNV-1a over a string: turns a readable seed such as "pod-gpt2-tiny/0" into 32 bits. */
export function hashSeed(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
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
