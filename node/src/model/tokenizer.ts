/**
 * Byte-level BPE tokenizer read from a Hugging Face `tokenizer.json` (GPT-2 family). Special
 * tokens in user text are encoded as plain text, never as control tokens.
 */
import { ModelInvalidError } from "../errors.ts";
import { GPT2_SPLIT_PATTERN, bytesToSymbols, charToByte } from "./byteLevel.ts";

export type Tokenizer = {
  vocabSize: number;
  encode(text: string): number[];
  /** Raw UTF-8 bytes of one token: streaming decoders join these across token boundaries. */
  tokenBytes(id: number): Uint8Array;
  decode(ids: readonly number[]): string;
  tokenId(content: string): number | undefined;
};

const utf8 = new TextEncoder();

export function parseTokenizerJson(json: unknown): Tokenizer {
  if (typeof json !== "object" || json === null) throw new ModelInvalidError("tokenizer.json is not an object");
  const root = json as Record<string, unknown>;
  const model = root.model as Record<string, unknown> | undefined;
  const pre = root.pre_tokenizer as Record<string, unknown> | undefined;
  if (model?.type !== "BPE" || typeof model.vocab !== "object" || model.vocab === null || !Array.isArray(model.merges)) {
    throw new ModelInvalidError("tokenizer.json: only a BPE model with vocab and merges is supported");
  }
  if (pre?.type !== "ByteLevel") throw new ModelInvalidError("tokenizer.json: only the ByteLevel pre-tokenizer (GPT-2 family) is supported");

  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(model.vocab as Record<string, unknown>)) {
    if (typeof id !== "number" || !Number.isInteger(id)) throw new ModelInvalidError(`tokenizer.json: bad id for token ${JSON.stringify(token)}`);
    vocab.set(token, id);
  }
  const added = Array.isArray(root.added_tokens) ? root.added_tokens : [];
  for (const entry of added) {
    const t = entry as Record<string, unknown>;
    if (typeof t.content === "string" && typeof t.id === "number") vocab.set(t.content, t.id);
  }
  const idToToken: string[] = [];
  for (const [token, id] of vocab) idToToken[id] = token;

  const mergeRank = new Map<string, number>();
  (model.merges as unknown[]).forEach((merge, rank) => {
    const pair = Array.isArray(merge) ? merge.join(" ") : merge;
    if (typeof pair !== "string") throw new ModelInvalidError(`tokenizer.json: bad merge at ${rank}`);
    mergeRank.set(pair, rank);
  });

  const splitter = new RegExp(GPT2_SPLIT_PATTERN, "gu");
  const cache = new Map<string, number[]>();

  const bpe = (piece: string): number[] => {
    const cached = cache.get(piece);
    if (cached !== undefined) return cached;
    let symbols = Array.from(bytesToSymbols(utf8.encode(piece)));
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = mergeRank.get(symbols[i] + " " + symbols[i + 1]);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      symbols = [...symbols.slice(0, best), symbols[best]! + symbols[best + 1]!, ...symbols.slice(best + 2)];
    }
    const ids = symbols.map((s) => {
      const id = vocab.get(s);
      if (id === undefined) throw new ModelInvalidError(`tokenizer.json: symbol ${JSON.stringify(s)} has no id`);
      return id;
    });
    if (cache.size > 50_000) cache.clear();
    cache.set(piece, ids);
    return ids;
  };

  const tokenBytes = (id: number): Uint8Array => {
    const token = idToToken[id];
    if (token === undefined) return new Uint8Array(0);
    const bytes = new Uint8Array(token.length);
    let n = 0;
    for (const ch of token) {
      const b = charToByte.get(ch);
      // Added tokens such as <|endoftext|> are plain text, not byte symbols.
      if (b === undefined) return utf8.encode(token);
      bytes[n++] = b;
    }
    return bytes.subarray(0, n);
  };

  return {
    vocabSize: idToToken.length,
    encode: (text) => {
      const ids: number[] = [];
      for (const match of text.matchAll(splitter)) ids.push(...bpe(match[0]));
      return ids;
    },
    tokenBytes,
    decode: (ids) => {
      const chunks = ids.map(tokenBytes);
      const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let offset = 0;
      for (const c of chunks) {
        all.set(c, offset);
        offset += c.length;
      }
      return new TextDecoder().decode(all);
    },
    tokenId: (content) => vocab.get(content),
  };
}
