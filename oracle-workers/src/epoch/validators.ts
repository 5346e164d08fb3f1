/**
 * The validator set an epoch root commits to: eligible accounts sorted ascending by address,
 * and the root of OpenZeppelin's StandardMerkleTree over [[address]] (what
 * RewardsDistributor's validator proofs check; test/helpers/rewards.ts validatorTree builds the same).
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { Address, Hex } from "viem";
import { EMPTY_ROOT } from "../../../sdk/src/merkle/tree.ts";

/** Sorted ascending by numeric address value (= lower-case string order). */
export function sortAddresses(addresses: Iterable<Address>): Address[] {
  return [...addresses].sort((a, b) => {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** The validators root; the zero hash when there are none. */
export function validatorsRoot(validators: readonly Address[]): Hex {
  if (validators.length === 0) return EMPTY_ROOT;
  return StandardMerkleTree.of(validators.map((v) => [v]), ["address"]).root as Hex;
}
