/**
 * The protocol's token sampling: a node picks each output token with selectToken and one
 * Xoshiro128(seed) draw per generated token (none when greedy), and a validator replays those
 * draws over the same logits. Both sides build the distribution with samplingWeights, so they
 * cannot drift apart. Pure functions over one row of logits (logits[offset, offset + size)),
 * integer-only RNG: a seed gives the same draws on every machine and JavaScript engine.
 */

export type SamplingParams = {
  /** 0 means greedy. */
  temperature: number;
  /** 1 means no nucleus cut. */
  topP: number;
  /** 0 means no top-k cut. */
  topK: number;
};

export type TokenAlternative = { tokenId: number; logprob: number };

/** xoshiro128** generator: 32-bit outputs, period 2^128 - 1, seeded through SplitMix32. */
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

/** log(sum(exp(x))) over the row, stable; pass `max` when already known. */
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

/** Index of the highest logit (ties: lowest index). */
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
 * A validator's allowance at the nucleus' edge: `index` stays in when its weight is within
 * `tolerance` (relative) below the cutoff, since logit noise may move it across.
 */
export type NucleusExemption = { index: number; tolerance: number };

/** Unnormalised sampling weights of one row and their sum, zero outside top-k and top-p. */
export type SamplingWeights = { weights: Float64Array; total: number };

/**
 * The tempered distribution restricted by top-k then top-p, as weights exp((logit - max) / T).
 * `best` is the row's argmax. Requires temperature > 0.
 */
export function samplingWeights(logits: Float32Array, offset: number, size: number, params: SamplingParams, best = argmax(logits, offset, size), exempt?: NucleusExemption): SamplingWeights {
  const invT = 1 / params.temperature;
  const max = logits[offset + best]!;
  const weights = new Float64Array(size);
  for (let i = 0; i < size; i++) weights[i] = Math.exp((logits[offset + i]! - max) * invT);
  let kept = size;
  if (params.topK > 0 && params.topK < size) {
    // The k-th best logit found without sorting the vocabulary; ties at the boundary stay.
    const keep = topKIndices(logits, offset, size, params.topK);
    const threshold = weights[keep[keep.length - 1]!]!;
    kept = 0;
    for (let i = 0; i < size; i++) {
      if (weights[i]! < threshold) weights[i] = 0;
      else kept++;
    }
  }
  let total = 0;
  for (let i = 0; i < size; i++) total += weights[i]!;
  if (params.topP < 1) {
    const cutoff = nucleusCutoff(weights, kept === size ? weights : weights.filter((w) => w > 0), params.topP * total);
    total = 0;
    for (let i = 0; i < size; i++) {
      const w = weights[i]!;
      if (w < cutoff && !(exempt !== undefined && i === exempt.index && w >= cutoff * (1 - exempt.tolerance))) weights[i] = 0;
      total += weights[i]!;
    }
  }
  return { weights, total };
}

/**
 * The smallest weight still inside the nucleus: heaviest first until their sum reaches `target`.
 * `candidates` holds every non-zero weight (zeros sort last and never change the cutoff's effect).
 */
function nucleusCutoff(weights: Float64Array, candidates: Float64Array, target: number): number {
  const sorted = (candidates === weights ? Float64Array.from(weights) : candidates).sort().reverse();
  let cumulative = 0;
  let cutoff = 0;
  for (const w of sorted) {
    cumulative += w;
    cutoff = w;
    if (cumulative >= target) break;
  }
  return cutoff;
}

/**
 * Picks the next token. Greedy when temperature is 0; otherwise samples from samplingWeights
 * with one uniform draw from `rng`.
 */
export function selectToken(logits: Float32Array, offset: number, size: number, params: SamplingParams, rng: Xoshiro128, best = argmax(logits, offset, size)): number {
  if (params.temperature === 0) return best;
  const { weights, total } = samplingWeights(logits, offset, size, params, best);
  const draw = rng.nextFloat() * total;
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < size; i++) {
    if (weights[i]! === 0) continue;
    cumulative += weights[i]!;
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
