/**
 * The cumulative-reward leaf, in one place (the rewards distributor, the indexer and the oracle
 * must all agree on it):
 *
 *   leaf = keccak256(bytes.concat(keccak256(abi.encode(address account, uint256 cumulativeReward))))
 *
 * which is the OpenZeppelin StandardMerkleTree leaf for the encoding ["address", "uint256"].
 */
import type { Hex } from "viem";
import { IS_LITTLE_ENDIAN, keccak256Words } from "./keccak.ts";

/** The leaf encoding as @openzeppelin/merkle-tree spells it. */
export const LEAF_ENCODING = ["address", "uint256"] as const;

const MAX_UINT256 = (1n << 256n) - 1n;

/** Thrown for a leaf that cannot be abi-encoded: a malformed address or an amount outside uint256. */
export class LeafEncodingError extends Error {
  override readonly name = "LeafEncodingError";
}

if (!IS_LITTLE_ENDIAN) {
  // The word-level buffers of the tree assume little-endian u32 words (every x86 and ARM host).
  throw new Error("oracle-workers/merkle needs a little-endian host");
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUE[65 + i] = 10 + i;
  HEX_VALUE[97 + i] = 10 + i;
}

/**
 * Writes the bytes spelt by `hex` (`0x` then 2 * `byteCount` hex digits) into `out` from
 * `offset`; false, with `out` partly written, when `hex` is not that.
 */
function writeHexBytes(hex: string, byteCount: number, out: Uint8Array, offset: number): boolean {
  if (hex.length !== 2 + 2 * byteCount || hex.charCodeAt(0) !== 48 || hex.charCodeAt(1) !== 120) return false;
  for (let i = 0; i < byteCount; i++) {
    const high = HEX_VALUE[hex.charCodeAt(2 + 2 * i)] ?? -1;
    const low = HEX_VALUE[hex.charCodeAt(3 + 2 * i)] ?? -1;
    if (high < 0 || low < 0) return false;
    out[offset + i] = (high << 4) | low;
  }
  return true;
}

const WORD_MASK = 0xffffffffn;

/**
 * Writes `abi.encode(address account, uint256 cumulativeReward)` (64 bytes) into `out` at
 * `offset`: 12 zero bytes, the 20 address bytes, then the amount as 32 big-endian bytes.
 */
export function writeLeafPreimage(
  account: string,
  cumulativeReward: bigint,
  out: Uint8Array,
  offset: number,
): void {
  if (cumulativeReward < 0n || cumulativeReward > MAX_UINT256) {
    throw new LeafEncodingError(`amount outside uint256: ${cumulativeReward}`);
  }
  out.fill(0, offset, offset + 64);
  if (!writeHexBytes(account, 20, out, offset + 12)) {
    throw new LeafEncodingError(`malformed address: ${account}`);
  }
  // 32 bits at a time from the low end (a shift is ~10x cheaper than toString(16) here).
  for (let end = offset + 64, rest = cumulativeReward; rest !== 0n; end -= 4, rest >>= 32n) {
    const word = Number(rest & WORD_MASK);
    out[end - 1] = word & 0xff;
    out[end - 2] = (word >>> 8) & 0xff;
    out[end - 3] = (word >>> 16) & 0xff;
    out[end - 4] = word >>> 24;
  }
}

const innerDigest = new Uint32Array(8);

/**
 * Hashes the 16-word preimage at `preimage[preimageOffset]` into the 8-word leaf hash at
 * `out[outOffset]` (the double keccak of the leaf format).
 */
export function hashLeafPreimage(
  preimage: Uint32Array,
  preimageOffset: number,
  out: Uint32Array,
  outOffset: number,
): void {
  keccak256Words(preimage, preimageOffset, 16, innerDigest, 0);
  keccak256Words(innerDigest, 0, 8, out, outOffset);
}

const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** `0x`-prefixed hex of the 32 bytes held in 8 little-endian words at `words[offset]`. */
export function wordsToHex(words: Uint32Array, offset: number): Hex {
  let hex = "0x";
  for (let i = offset; i < offset + 8; i++) {
    const w = words[i]!;
    hex += BYTE_HEX[w & 0xff]! + BYTE_HEX[(w >>> 8) & 0xff]! + BYTE_HEX[(w >>> 16) & 0xff]! + BYTE_HEX[w >>> 24]!;
  }
  return hex as Hex;
}

/** Reads a `0x`-prefixed 32-byte hex string into 8 words at `out[offset]`. */
export function hexToWords(hex: string, out: Uint32Array, offset: number): void {
  if (!writeHexBytes(hex, 32, new Uint8Array(out.buffer, out.byteOffset + offset * 4, 32), 0)) {
    throw new LeafEncodingError(`not a 32-byte hex string: ${hex}`);
  }
}

const singlePreimage = new Uint32Array(16);
const singlePreimageBytes = new Uint8Array(singlePreimage.buffer);
const singleLeaf = new Uint32Array(8);

/** The leaf hash of one account's cumulative reward, as `0x`-prefixed hex. */
export function cumulativeLeafHash(account: string, cumulativeReward: bigint): Hex {
  writeLeafPreimage(account, cumulativeReward, singlePreimageBytes, 0);
  hashLeafPreimage(singlePreimage, 0, singleLeaf, 0);
  return wordsToHex(singleLeaf, 0);
}
