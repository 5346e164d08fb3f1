/**
 * The cumulative-reward Merkle tree, built fast over flat word buffers and laid out exactly as
 * @openzeppelin/merkle-tree's StandardMerkleTree (default options), so roots and proofs match:
 *
 * - leaves are sorted ascending by hash (bytewise), then stored in a heap array of 2n-1 nodes
 *   with the k-th sorted leaf at index 2n-2-k;
 * - node i = keccak256(sorted(node 2i+1, node 2i+2)) for i = n-2 .. 0; the root is node 0;
 * - a proof is the sibling chain from the leaf up to (not including) the root.
 *
 * The same tree comes out of merkletreejs with `{ complete: true, sortPairs: true }` over the
 * heap's leaf row read left to right (see `heapLeafOrder`); the tests check all three agree.
 */
import type { Hex } from "viem";
import { keccak256Words } from "./keccak.ts";
import { hashLeafPreimage, hexToWords, wordsToHex, writeLeafPreimage, cumulativeLeafHash } from "./leaf.ts";

export type CumulativeLeaf = { readonly account: string; readonly cumulativeReward: bigint };

/** The root committed for an epoch in which no account has a positive cumulative reward. */
export const EMPTY_ROOT: Hex = `0x${"0".repeat(64)}`;

const WORDS = 8; // a 32-byte hash as u32 words

/** Unsigned big-endian reading of a little-endian-stored word: bytewise order of the 4 bytes. */
function byteOrderKey(w: number): number {
  return (((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24)) >>> 0;
}

/** Bytewise comparison of the 32-byte values at a[aOffset] and b[bOffset]. */
function compareHashes(a: Uint32Array, aOffset: number, b: Uint32Array, bOffset: number): number {
  for (let i = 0; i < WORDS; i++) {
    const x = byteOrderKey(a[aOffset + i]!);
    const y = byteOrderKey(b[bOffset + i]!);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

const INDEX_BITS = 2 ** 21;

/**
 * Leaf indices in ascending bytewise order of their hashes (8 words each). Exported for tests;
 * `packedUpTo` only exists so they can reach the fallback without 2M leaves.
 */
export function sortByHash(hashes: Uint32Array, count: number, packedUpTo = INDEX_BITS): Uint32Array {
  const order = new Uint32Array(count);
  const byFullHash = (i: number, j: number) => compareHashes(hashes, i * WORDS, hashes, j * WORDS);
  if (count > packedUpTo) {
    // Too many leaves to pack into a double's 53 bits next to a 32-bit prefix: plain comparator sort.
    const indices = Array.from({ length: count }, (_, i) => i).sort(byFullHash);
    order.set(indices);
    return order;
  }
  // Native numeric sort of (first 4 bytes, index) packed in a double, then full comparison
  // inside the rare runs that share the first 4 bytes.
  const keys = new Float64Array(count);
  for (let i = 0; i < count; i++) keys[i] = byteOrderKey(hashes[i * WORDS]!) * INDEX_BITS + i;
  keys.sort();
  for (let k = 0; k < count; k++) order[k] = keys[k]! % INDEX_BITS;
  for (let start = 0; start < count; ) {
    const prefix = Math.floor(keys[start]! / INDEX_BITS);
    let end = start + 1;
    while (end < count && Math.floor(keys[end]! / INDEX_BITS) === prefix) end++;
    if (end - start > 1) order.set(Array.from(order.subarray(start, end)).sort(byFullHash), start);
    start = end;
  }
  return order;
}

const pairBuffer = new Uint32Array(2 * WORDS);

/** node[parent] = keccak256 of the two children in ascending bytewise order. */
function hashChildren(nodes: Uint32Array, parent: number): void {
  const left = (2 * parent + 1) * WORDS;
  const right = left + WORDS;
  if (compareHashes(nodes, left, nodes, right) <= 0) {
    // Children are adjacent in the heap: hash them in place.
    keccak256Words(nodes, left, 16, nodes, parent * WORDS);
    return;
  }
  pairBuffer.set(nodes.subarray(right, right + WORDS), 0);
  pairBuffer.set(nodes.subarray(left, left + WORDS), WORDS);
  keccak256Words(pairBuffer, 0, 16, nodes, parent * WORDS);
}

export class CumulativeRewardTree {
  /** Number of leaves. */
  readonly size: number;
  /** The root, or EMPTY_ROOT for no leaves. */
  readonly root: Hex;
  private readonly nodes: Uint32Array;
  private readonly treeIndexOfLeaf: Uint32Array;
  private readonly accounts: readonly string[];
  private accountIndex: Map<string, number> | undefined;

  private constructor(nodes: Uint32Array, treeIndexOfLeaf: Uint32Array, accounts: readonly string[]) {
    this.nodes = nodes;
    this.treeIndexOfLeaf = treeIndexOfLeaf;
    this.accounts = accounts;
    this.size = accounts.length;
    this.root = this.size === 0 ? EMPTY_ROOT : wordsToHex(nodes, 0);
  }

  /**
   * Builds the tree over the leaves (accounts must be distinct).
   * @example CumulativeRewardTree.build([{ account: "0x…", cumulativeReward: 10n ** 18n }]).root
   */
  static build(leaves: readonly CumulativeLeaf[]): CumulativeRewardTree {
    const count = leaves.length;
    const accounts = leaves.map((leaf) => leaf.account);
    if (count === 0) return new CumulativeRewardTree(new Uint32Array(0), new Uint32Array(0), accounts);

    const preimage = new Uint32Array(16);
    const preimageBytes = new Uint8Array(preimage.buffer);
    const leafHashes = new Uint32Array(count * WORDS);
    for (let i = 0; i < count; i++) {
      const leaf = leaves[i]!;
      writeLeafPreimage(leaf.account, leaf.cumulativeReward, preimageBytes, 0);
      hashLeafPreimage(preimage, 0, leafHashes, i * WORDS);
    }

    const order = sortByHash(leafHashes, count);
    const nodeCount = 2 * count - 1;
    const nodes = new Uint32Array(nodeCount * WORDS);
    const treeIndexOfLeaf = new Uint32Array(count);
    for (let k = 0; k < count; k++) {
      const leafIndex = order[k]!;
      const treeIndex = nodeCount - 1 - k;
      nodes.set(leafHashes.subarray(leafIndex * WORDS, (leafIndex + 1) * WORDS), treeIndex * WORDS);
      treeIndexOfLeaf[leafIndex] = treeIndex;
    }
    for (let parent = count - 2; parent >= 0; parent--) hashChildren(nodes, parent);
    return new CumulativeRewardTree(nodes, treeIndexOfLeaf, accounts);
  }

  /** The proof of the leaf at `leafIndex` (its position in the input), leaf to root. */
  proofAt(leafIndex: number): Hex[] {
    if (!Number.isInteger(leafIndex) || leafIndex < 0 || leafIndex >= this.size) {
      throw new RangeError(`leaf index out of range: ${leafIndex}`);
    }
    const proof: Hex[] = [];
    for (let node = this.treeIndexOfLeaf[leafIndex]!; node > 0; node = (node - 1) >> 1) {
      const sibling = node % 2 === 1 ? node + 1 : node - 1;
      proof.push(wordsToHex(this.nodes, sibling * WORDS));
    }
    return proof;
  }

  /** The proof of an account's leaf (any letter case), or undefined when it has none. */
  proofFor(account: string): Hex[] | undefined {
    // Built on first use: the epoch pipeline needs roots every epoch, account lookups only when serving.
    this.accountIndex ??= new Map(this.accounts.map((a, i) => [a.toLowerCase(), i]));
    const index = this.accountIndex.get(account.toLowerCase());
    return index === undefined ? undefined : this.proofAt(index);
  }

  /** The leaf hash at `leafIndex` (its position in the input). */
  leafHashAt(leafIndex: number): Hex {
    const treeIndex = this.treeIndexOfLeaf[leafIndex];
    if (treeIndex === undefined) throw new RangeError(`leaf index out of range: ${leafIndex}`);
    return wordsToHex(this.nodes, treeIndex * WORDS);
  }

  /**
   * The heap's leaf row read left to right: the deepest level, then the shallower one.
   * Fed to merkletreejs `{ complete: true, sortPairs: true }`, it gives this tree's root.
   */
  heapLeafOrder(): Hex[] {
    const nodeCount = 2 * this.size - 1;
    const firstLeaf = this.size - 1;
    const firstDeepest = 2 ** Math.floor(Math.log2(nodeCount)) - 1;
    const order: Hex[] = [];
    for (let i = Math.max(firstDeepest, firstLeaf); i < nodeCount; i++) order.push(wordsToHex(this.nodes, i * WORDS));
    for (let i = firstLeaf; i < firstDeepest; i++) order.push(wordsToHex(this.nodes, i * WORDS));
    return order;
  }
}

/** Whether `proof` proves `(account, cumulativeReward)` under `root` (sorted-pair hashing). */
export function verifyCumulativeProof(
  root: Hex,
  account: string,
  cumulativeReward: bigint,
  proof: readonly Hex[],
): boolean {
  const pair = new Uint32Array(2 * WORDS);
  hexToWords(cumulativeLeafHash(account, cumulativeReward), pair, 0);
  for (const sibling of proof) {
    hexToWords(sibling, pair, WORDS);
    if (compareHashes(pair, 0, pair, WORDS) > 0) {
      const current = pair.slice(0, WORDS);
      pair.copyWithin(0, WORDS, 2 * WORDS);
      pair.set(current, WORDS);
    }
    keccak256Words(pair, 0, 16, pair, 0);
  }
  return wordsToHex(pair, 0) === root.toLowerCase();
}
