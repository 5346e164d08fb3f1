/**
 * GPT-2's byte-level alphabet: every byte maps to a printable unicode character, so BPE works
 * on strings with no unknown token. Same table as `bytes_to_unicode` in GPT-2 and HF tokenizers.
 */
function buildTables(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const byteToChar: string[] = new Array<string>(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    byteToChar[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + shifted++);
  }
  const charToByte = new Map<string, number>();
  byteToChar.forEach((char, b) => charToByte.set(char, b));
  return { byteToChar, charToByte };
}

export const { byteToChar, charToByte } = buildTables();

export function bytesToSymbols(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += byteToChar[b]!;
  return out;
}

/** GPT-2's pre-tokenization pattern (contractions, letters, numbers, other, whitespace). */
export const GPT2_SPLIT_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
