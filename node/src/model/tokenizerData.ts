/**
 * Writes a Hugging Face `tokenizer.json` for the GPT-2 BPE from the ranks that the npm package
 * js-tiktoken ships (no download). tiktoken stores ranks only; the merge list is recovered the
 * standard way: each multi-byte token is the one merge that BPE with lower ranks ends on.
 */
import gpt2Ranks from "js-tiktoken/ranks/gpt2";
import { bytesToSymbols } from "./byteLevel.ts";

export const GPT2_EOS_TOKEN = "<|endoftext|>";

type RankTable = { tokens: Uint8Array[]; rankOf: Map<string, number> };

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function decodeRanks(): RankTable {
  const tokens: Uint8Array[] = [];
  const rankOf = new Map<string, number>();
  for (const line of gpt2Ranks.bpe_ranks.split("\n")) {
    if (line === "") continue;
    const [, offsetText, ...encoded] = line.split(" ");
    const offset = Number.parseInt(offsetText ?? "", 10);
    encoded.forEach((b64, i) => {
      const bytes = new Uint8Array(Buffer.from(b64, "base64"));
      tokens[offset + i] = bytes;
      rankOf.set(latin1(bytes), offset + i);
    });
  }
  return { tokens, rankOf };
}

/** BPE over bytes allowing only merges whose result ranks below `maxRank`. */
function partsBelowRank(bytes: Uint8Array, rankOf: Map<string, number>, maxRank: number): string[] {
  let parts = Array.from(bytes, (b) => String.fromCharCode(b));
  for (;;) {
    let best = -1;
    let bestRank = maxRank;
    for (let i = 0; i + 1 < parts.length; i++) {
      const rank = rankOf.get(parts[i]! + parts[i + 1]!);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    if (best < 0) return parts;
    parts = [...parts.slice(0, best), parts[best]! + parts[best + 1]!, ...parts.slice(best + 2)];
  }
}

export type HfTokenizerJson = {
  version: string;
  added_tokens: { id: number; content: string; special: boolean; single_word: boolean; lstrip: boolean; rstrip: boolean; normalized: boolean }[];
  normalizer: null;
  pre_tokenizer: { type: "ByteLevel"; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean };
  post_processor: { type: "ByteLevel"; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean };
  decoder: { type: "ByteLevel"; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean };
  model: { type: "BPE"; dropout: null; unk_token: null; continuing_subword_prefix: string; end_of_word_suffix: string; fuse_unk: boolean; byte_fallback: boolean; vocab: Record<string, number>; merges: string[] };
  truncation: null;
  padding: null;
};

export function buildGpt2TokenizerJson(): HfTokenizerJson {
  const { tokens, rankOf } = decodeRanks();
  const vocab: Record<string, number> = {};
  const merges: string[] = [];
  tokens.forEach((bytes, rank) => {
    const symbols = bytesToSymbols(bytes);
    vocab[symbols] = rank;
    if (bytes.length < 2) return;
    const parts = partsBelowRank(bytes, rankOf, rank);
    if (parts.length !== 2) throw new Error(`token ${rank} does not split into one merge`);
    merges.push(parts.map((p) => bytesToSymbols(Uint8Array.from(p, (c) => c.charCodeAt(0)))).join(" "));
  });
  const eosId = gpt2Ranks.special_tokens[GPT2_EOS_TOKEN];
  if (eosId === undefined) throw new Error("js-tiktoken gpt2 ranks lack <|endoftext|>");
  vocab[GPT2_EOS_TOKEN] = eosId;
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    added_tokens: [{ id: eosId, content: GPT2_EOS_TOKEN, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", ...byteLevel },
    post_processor: { type: "ByteLevel", ...byteLevel, trim_offsets: false },
    decoder: { type: "ByteLevel", ...byteLevel },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "", fuse_unk: false, byte_fallback: false, vocab, merges },
    truncation: null,
    padding: null,
  };
}
