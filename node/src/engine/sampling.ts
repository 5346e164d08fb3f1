/**
 * Pure token selection over one row of logits: log-softmax, top-k alternatives, greedy and
 * seeded sampling with temperature, top-k and top-p. No I/O, no state beyond the RNG passed in.
 */
import type { Xoshiro128 } from "../model/rng.ts";

export type SamplingParams = {
  /** 0 means greedy. */
  temperature: number;
  /** 1 means no nucleus cut. */
  topP: number;
  /** 0 means no top-k cut. */
  topK: number;
};

export type TokenAlternative = { tokenId: number; logprob: number };

/** log(sum(exp(x))) over logits[offset, offset + size), stable; pass `max` when already known. */
export function logSumExp(logits: Float32Array, offset: number, size: number, max = maxOf(logits, offset, size)): number {
  let sum = 0;
  for (let i = offset; i < offset + size; i++) sum += Math.exp(logits[i]! - max);
  return max + Math.log(sum);
}

/** The k highest logits, best first (ties: lower token id first). */
export function topKIndices(logits: Float32Array, offset: number, size: number, k: number): number[] {
  if (k <= 0) return [];
  const best: number[] = [];
  let floor = -Infinity;
  for (let i = 0; i < size; i++) {
    const v = logits[offset + i]!;
    if (best.length === k && v <= floor) continue;
    let pos = best.length;
    while (pos > 0 && logits[offset + best[pos - 1]!]! < v) pos--;
    best.splice(pos, 0, i);
    if (best.length > k) best.pop();
    floor = logits[offset + best[best.length - 1]!]!;
  }
  return best;
}

function maxOf(logits: Float32Array, offset: number, size: number): number {
  let max = -Infinity;
  for (let i = offset; i < offset + size; i++) if (logits[i]! > max) max = logits[i]!;
  return max;
}

export function argmax(logits: Float32Array, offset: number, size: number): number {
  let best = 0;
  let bestValue = logits[offset]!;
  for (let i = 1; i < size; i++) {
    if (logits[offset + i]! > bestValue) {
      bestValue = logits[offset + i]!;
      best = i;
    }
  }
  return best;
}

/**
 * Picks the next token. Greedy when temperature is 0; otherwise samples from the tempered
 * distribution restricted by top-k then top-p, with one uniform draw from `rng`.
 */
export function selectToken(logits: Float32Array, offset: number, size: number, params: SamplingParams, rng: Xoshiro128, best = argmax(logits, offset, size)): number {
  if (params.temperature === 0) return best;
  const invT = 1 / params.temperature;
  const max = logits[offset + best]!;
  const probs = new Float64Array(size);
  for (let i = 0; i < size; i++) probs[i] = Math.exp((logits[offset + i]! - max) * invT);

  if (params.topK > 0 && params.topK < size) {
    const keep = topKIndices(logits, offset, size, params.topK);
    const threshold = probs[keep[keep.length - 1]!]!;
    // Everything below the k-th value goes; ties at the boundary stay (deterministic either way).
    for (let i = 0; i < size; i++) if (probs[i]! < threshold) probs[i] = 0;
  }
  let total = 0;
  for (let i = 0; i < size; i++) total += probs[i]!;

  if (params.topP < 1) {
    // Smallest probability still inside the nucleus: sort a copy (native typed-array sort).
    const sorted = Float64Array.from(probs).sort().reverse();
    const target = params.topP * total;
    let cumulative = 0;
    let cutoff = 0;
    for (const p of sorted) {
      cumulative += p;
      cutoff = p;
      if (cumulative >= target) break;
    }
    total = 0;
    for (let i = 0; i < size; i++) {
      if (probs[i]! < cutoff) probs[i] = 0;
      total += probs[i]!;
    }
  }

  const draw = rng.nextFloat() * total;
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < size; i++) {
    if (probs[i]! === 0) continue;
    cumulative += probs[i]!;
    last = i;
    if (cumulative > draw) return i;
  }
  return last;
}

/**
 * Chosen token's log-probability and the top alternatives, under the model's own distribution.
 * `lse` may be passed when the caller has it already.
 */
export function tokenLogprobs(logits: Float32Array, offset: number, size: number, chosen: number, topN: number, lse = logSumExp(logits, offset, size)): { logprob: number; top: TokenAlternative[] } {
  const logprob = Math.fround(logits[offset + chosen]! - lse);
  const top = topKIndices(logits, offset, size, topN).map((tokenId) => ({ tokenId, logprob: Math.fround(logits[offset + tokenId]! - lse) }));
  return { logprob, top };
}
