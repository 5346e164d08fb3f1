// The cumulative-reward tree against @openzeppelin/merkle-tree (roots and proofs), merkletreejs,
// viem and @noble/hashes, on seeded random sets.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { MerkleTree } from "merkletreejs";
import { keccak_256, keccakP } from "@noble/hashes/sha3.js";
import { encodeAbiParameters, keccak256 } from "viem";
import type { Hex } from "viem";
import { keccak256Words, keccakPermute } from "../../sdk/src/merkle/keccak.ts";
import { LEAF_ENCODING, LeafEncodingError, cumulativeLeafHash, writeLeafPreimage } from "../../sdk/src/merkle/leaf.ts";
import type { CumulativeLeaf } from "../../sdk/src/merkle/tree.ts";
import { CumulativeRewardTree, EMPTY_ROOT, sortByHash, verifyCumulativeProof } from "../../sdk/src/merkle/tree.ts";
import { mulberry32 as seeded } from "../../test/helpers/random.ts";

const MAX_UINT256 = (1n << 256n) - 1n;

function randomBytes(random: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

const hex = (bytes: Uint8Array): Hex => `0x${Buffer.from(bytes).toString("hex")}`;

/** `count` leaves with distinct random accounts; amounts drawn from a small pool, so duplicates occur. */
function randomLeaves(random: () => number, count: number): CumulativeLeaf[] {
  const pool = [0n, 1n, 10n ** 18n, 123_456_789_000_000_000_000n, MAX_UINT256];
  return Array.from({ length: count }, () => ({
    account: hex(randomBytes(random, 20)),
    cumulativeReward: random() < 0.5 ? pool[Math.floor(random() * pool.length)]! : BigInt(Math.floor(random() * 1e15)) * 10n ** 9n,
  }));
}

const ozValues = (leaves: readonly CumulativeLeaf[]) => leaves.map((l) => [l.account, l.cumulativeReward.toString()]);
const noble = (bytes: Uint8Array) => Buffer.from(keccak_256(bytes));

describe("keccak (WebAssembly permutation)", () => {
  test("one-block digests equal @noble/hashes keccak_256 for 32- and 64-byte messages", () => {
    const random = seeded(1);
    for (let i = 0; i < 200; i++) {
      const words = i % 2 === 0 ? 8 : 16;
      const message = randomBytes(random, words * 4);
      const out = new Uint32Array(8);
      keccak256Words(new Uint32Array(message.buffer), 0, words, out, 0);
      assert.equal(hex(new Uint8Array(out.buffer)), hex(keccak_256(message)));
    }
  });

  test("the permutation equals @noble/hashes keccakP on random states", () => {
    const random = seeded(2);
    for (let i = 0; i < 50; i++) {
      const state = new Uint32Array(randomBytes(random, 200).buffer);
      const expected = state.slice();
      keccakP(expected, 24);
      keccakPermute(state);
      assert.deepEqual(state, expected);
    }
  });
});

describe("the cumulative-reward leaf", () => {
  const account = "0x52908400098527886E0F7030069857D2E4169EE7";
  for (const amount of [0n, 1n, 10n ** 18n, MAX_UINT256]) {
    test(`keccak256(keccak256(abi.encode(address, uint256))) for ${amount}`, () => {
      const encoded = encodeAbiParameters([{ type: "address" }, { type: "uint256" }], [account, amount]);
      const expected = keccak256(keccak256(encoded));
      assert.equal(cumulativeLeafHash(account, amount), expected);
      // a one-leaf OpenZeppelin tree's root is its leaf
      assert.equal(StandardMerkleTree.of([[account, amount.toString()]], [...LEAF_ENCODING]).root, expected);
      // letter case does not change the encoding
      assert.equal(cumulativeLeafHash(account.toLowerCase(), amount), expected);
    });
  }

  test("the preimage is abi.encode: 12 zero bytes, the address, the amount big-endian", () => {
    const out = new Uint8Array(64).fill(0xff);
    writeLeafPreimage(account, 258n, out, 0);
    assert.equal(hex(out), encodeAbiParameters([{ type: "address" }, { type: "uint256" }], [account, 258n]));
  });

  test("malformed addresses and amounts outside uint256 are refused", () => {
    const out = new Uint8Array(64);
    for (const bad of ["0x1234", "52908400098527886E0F7030069857D2E4169EE7", `0X${"a".repeat(40)}`, `0x${"g".repeat(40)}`, `0x${"a".repeat(42)}`]) {
      assert.throws(() => writeLeafPreimage(bad, 1n, out, 0), LeafEncodingError, bad);
    }
    assert.throws(() => writeLeafPreimage(account, -1n, out, 0), LeafEncodingError);
    assert.throws(() => writeLeafPreimage(account, MAX_UINT256 + 1n, out, 0), LeafEncodingError);
  });
});

describe("CumulativeRewardTree matches @openzeppelin/merkle-tree", () => {
  const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 257];
  for (const size of sizes) {
    test(`${size} leaves: same root, same proof for every leaf, verified by OZ and by us`, () => {
      const leaves = randomLeaves(seeded(1000 + size), size);
      const tree = CumulativeRewardTree.build(leaves);
      const oz = StandardMerkleTree.of(ozValues(leaves), [...LEAF_ENCODING]);
      assert.equal(tree.root, oz.root);
      leaves.forEach((leaf, i) => {
        const proof = tree.proofAt(i);
        assert.deepEqual(proof, oz.getProof(i));
        assert.ok(StandardMerkleTree.verify(tree.root, [...LEAF_ENCODING], [leaf.account, leaf.cumulativeReward.toString()], proof));
        assert.ok(verifyCumulativeProof(tree.root, leaf.account, leaf.cumulativeReward, proof));
        assert.equal(tree.leafHashAt(i), cumulativeLeafHash(leaf.account, leaf.cumulativeReward));
      });
    });
  }

  test("2,000 leaves with many equal amounts", () => {
    const random = seeded(7);
    const leaves = randomLeaves(random, 2000).map((l, i) => ({ ...l, cumulativeReward: BigInt(i % 3) * 10n ** 18n }));
    const tree = CumulativeRewardTree.build(leaves);
    const oz = StandardMerkleTree.of(ozValues(leaves), [...LEAF_ENCODING]);
    assert.equal(tree.root, oz.root);
    for (const i of [0, 1, 999, 1998, 1999]) assert.deepEqual(tree.proofAt(i), oz.getProof(i));
  });

  test("leaves whose hashes share their first 4 bytes still sort bytewise", () => {
    // The fast sort orders by the first 4 bytes and settles ties by full comparison. These two
    // accounts (found by a random search) have leaf hashes for amount 1 that both start c61eb2ac.
    const tie = ["0x91f59003576a8a689ede45f6d3c80c1cefbd466b", "0x08cacc86661899a97121884836969e65dc660751"];
    const tieHashes = tie.map((account) => cumulativeLeafHash(account, 1n));
    assert.equal(tieHashes[0]!.slice(0, 10), "0xc61eb2ac");
    assert.equal(tieHashes[1]!.slice(0, 10), "0xc61eb2ac");
    for (const order of [tie, [...tie].reverse()]) {
      const leaves = [...randomLeaves(seeded(12), 6), ...order.map((account) => ({ account, cumulativeReward: 1n }))];
      const oz = StandardMerkleTree.of(ozValues(leaves), [...LEAF_ENCODING]);
      const tree = CumulativeRewardTree.build(leaves);
      assert.equal(tree.root, oz.root);
      assert.deepEqual(tree.proofAt(6), oz.getProof(6));
    }
  });
});

describe("sortByHash", () => {
  test("the packed sort and the comparator fallback give the same bytewise order", () => {
    const random = seeded(21);
    const count = 3000;
    const hashes = new Uint32Array(randomBytes(random, count * 32).buffer);
    // force first-word ties: every third hash copies the first word of its predecessor
    for (let i = 3; i < count; i += 3) hashes[i * 8] = hashes[(i - 1) * 8]!;
    const packed = sortByHash(hashes, count);
    const fallback = sortByHash(hashes, count, 0);
    assert.deepEqual(packed, fallback);
    const asHex = (i: number) => Buffer.from(hashes.buffer, i * 32, 32).toString("hex");
    const sorted = Array.from(packed, asHex);
    assert.deepEqual(sorted, [...sorted].sort());
  });
});

describe("CumulativeRewardTree matches merkletreejs (complete tree, sorted pairs)", () => {
  for (const size of [1, 2, 3, 5, 6, 7, 9, 13, 64, 100]) {
    test(`${size} leaves`, () => {
      const leaves = randomLeaves(seeded(2000 + size), size);
      const tree = CumulativeRewardTree.build(leaves);
      const mt = new MerkleTree(tree.heapLeafOrder(), noble, { complete: true, sortPairs: true });
      assert.equal(mt.getHexRoot(), tree.root);
      leaves.forEach((leaf, i) => {
        const leafHash = tree.leafHashAt(i);
        assert.ok(MerkleTree.verify(tree.proofAt(i), leafHash, tree.root, noble, { sortPairs: true }));
      });
    });
  }
});

describe("proofs and verification", () => {
  const leaves = randomLeaves(seeded(3), 50);
  const tree = CumulativeRewardTree.build(leaves);

  test("proofFor finds an account in any letter case; unknown accounts have none", () => {
    const leaf = leaves[17]!;
    assert.deepEqual(tree.proofFor(leaf.account.toUpperCase().replace("0X", "0x")), tree.proofAt(17));
    assert.equal(tree.proofFor(`0x${"0".repeat(40)}`), undefined);
  });

  test("a wrong amount, account or sibling fails verification", () => {
    const leaf = leaves[5]!;
    const proof = tree.proofAt(5);
    assert.ok(verifyCumulativeProof(tree.root, leaf.account, leaf.cumulativeReward, proof));
    assert.equal(verifyCumulativeProof(tree.root, leaf.account, leaf.cumulativeReward + 1n, proof), false);
    assert.equal(verifyCumulativeProof(tree.root, leaves[6]!.account, leaf.cumulativeReward, proof), false);
    const tampered = [...proof];
    tampered[0] = `0x${"ab".repeat(32)}`;
    assert.equal(verifyCumulativeProof(tree.root, leaf.account, leaf.cumulativeReward, tampered), false);
  });

  test("no leaves: the zero root and no proofs", () => {
    const empty = CumulativeRewardTree.build([]);
    assert.equal(empty.root, EMPTY_ROOT);
    assert.equal(EMPTY_ROOT, `0x${"0".repeat(64)}`);
    assert.throws(() => empty.proofAt(0), RangeError);
  });

  test("proofAt refuses indices outside the tree", () => {
    assert.throws(() => tree.proofAt(50), RangeError);
    assert.throws(() => tree.proofAt(-1), RangeError);
  });
});
