/**
 * The statistics the checks compare with thresholds, kept apart from the thresholds so that
 * calibration measures honest noise with exactly the numbers the checks use.
 */
import type { TokenAlternative } from "./recompute.ts";

export type ReportedLogprobs = { chosen: readonly number[]; top: readonly (readonly TokenAlternative[])[] };

export type LogprobStats = {
  /** Positions compared (the shorter of the two when lengths differ). */
  positions: number;
  lengthsMatch: boolean;
  /** Largest |reported - recomputed| over chosen logprobs and the top-k logprobs both sides list. */
  maxAbsDeviation: number;
  /** Mean |reported - recomputed| over chosen logprobs. */
  meanAbsDeviation: number;
  /** Mean over positions of |reported top ids ∩ recomputed top ids| / |reported top ids| (1 when none were reported). */
  topOverlap: number;
};

/** |a - b| treating equal infinities as equal and anything non-finite otherwise as infinitely far. */
function deviation(a: number, b: number): number {
  if (a === b) return 0;
  const d = Math.abs(a - b);
  return Number.isNaN(d) ? Infinity : d;
}

export function logprobStats(reported: ReportedLogprobs, recomputed: ReportedLogprobs): LogprobStats {
  const positions = Math.min(reported.chosen.length, recomputed.chosen.length);
  const lengthsMatch = reported.chosen.length === recomputed.chosen.length && reported.top.length === reported.chosen.length;
  let maxAbs = 0;
  let sumAbs = 0;
  let overlapSum = 0;
  for (let j = 0; j < positions; j++) {
    const d = deviation(reported.chosen[j]!, recomputed.chosen[j]!);
    maxAbs = Math.max(maxAbs, d);
    sumAbs += d;
    const reportedTop = reported.top[j] ?? [];
    const recomputedTop = new Map((recomputed.top[j] ?? []).map((t) => [t.tokenId, t.logprob]));
    let shared = 0;
    for (const alt of reportedTop) {
      const other = recomputedTop.get(alt.tokenId);
      if (other === undefined) continue;
      shared++;
      maxAbs = Math.max(maxAbs, deviation(alt.logprob, other));
    }
    overlapSum += reportedTop.length === 0 ? 1 : shared / reportedTop.length;
  }
  return {
    positions,
    lengthsMatch,
    maxAbsDeviation: maxAbs,
    meanAbsDeviation: positions === 0 ? 0 : sumAbs / positions,
    topOverlap: positions === 0 ? 1 : overlapSum / positions,
  };
}

/** Levenshtein distance between two id sequences (two rows, O(n·m) time). */
export function editDistance(a: readonly number[], b: readonly number[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The subset of the node's Tokenizer the tokenization check needs. */
export type TextTokenizer = { encode(text: string): number[]; decode(ids: readonly number[]): string; tokenBytes(id: number): Uint8Array };

export type TokenizationStats = {
  /** Claimed output ids without a final end-of-sequence token (it has no text). */
  claimed: number;
  /** Ids the text re-tokenizes to. */
  retokenized: number;
  editDistance: number;
  /** editDistance / max(claimed, retokenized, 1). */
  relativeEditDistance: number;
  /** decode(claimed ids) is the text, or the text followed by a stop string (and what the stop token carried). */
  decodeMatches: boolean;
  /** Claimed ids that are no token of the vocabulary (no bytes): invisible in the text, yet counted. */
  unknownIds: number;
};

export function tokenizationStats(text: string, outputTokenIds: readonly number[], tokenizer: TextTokenizer, eosTokenId: number, stops: readonly string[]): TokenizationStats {
  const claimed = outputTokenIds.at(-1) === eosTokenId ? outputTokenIds.slice(0, -1) : [...outputTokenIds];
  const retokenized = tokenizer.encode(text);
  const distance = editDistance(claimed, retokenized);
  return {
    claimed: claimed.length,
    retokenized: retokenized.length,
    editDistance: distance,
    relativeEditDistance: distance / Math.max(claimed.length, retokenized.length, 1),
    decodeMatches: decodeMatches(tokenizer.decode(claimed), text, stops),
    unknownIds: claimed.filter((id) => !Number.isInteger(id) || id < 0 || tokenizer.tokenBytes(id).length === 0).length,
  };
}

/** The engine cuts the text where a stop string starts; the tokens that produced it stay. */
function decodeMatches(decoded: string, text: string, stops: readonly string[]): boolean {
  if (decoded === text) return true;
  if (!decoded.startsWith(text)) return false;
  const rest = decoded.slice(text.length);
  return stops.some((s) => s.length > 0 && rest.startsWith(s));
}
