// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {PodTest} from "./utils/PodTest.sol";
import {FourLeafTree} from "./utils/RewardsKit.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {RewardsMerkle} from "../contracts/libraries/RewardsMerkle.sol";

/// @dev RewardsMerkle's assembly against OpenZeppelin's MerkleProof and the Solidity leaf.
contract RewardsMerkleTest is PodTest {
    /// @dev External, so that `proof` is calldata as in the distributor.
    function processBoth(bytes32[] calldata proof, bytes32 leaf) external pure returns (bytes32 ours, bytes32 oz) {
        return (RewardsMerkle.processProofCalldata(proof, leaf), MerkleProof.processProofCalldata(proof, leaf));
    }

    /// Any proof (any length, any words) reaches the same root as OpenZeppelin's.
    function testFuzz_processProofMatchesOpenZeppelin(bytes32[] calldata proof, bytes32 leaf) public view {
        (bytes32 ours, bytes32 oz) = this.processBoth(proof, leaf);
        assertEq(ours, oz);
    }

    /// Siblings equal to the running hash, zero or all ones order the same way as OpenZeppelin's.
    function testFuzz_processProofMatchesOpenZeppelinOnTies(bytes32 leaf, uint256 choices) public view {
        bytes32[] memory proof = new bytes32[](8);
        bytes32 hash = leaf;
        for (uint256 i = 0; i < proof.length; ++i) {
            uint256 choice = (choices >> (2 * i)) % 3;
            proof[i] = choice == 0 ? hash : choice == 1 ? bytes32(0) : bytes32(type(uint256).max);
            hash = Hashes.commutativeKeccak256(hash, proof[i]);
        }
        (bytes32 ours, bytes32 oz) = this.processBoth(proof, leaf);
        assertEq(ours, hash);
        assertEq(oz, hash);
    }

    /// The empty proof leaves the leaf as the root.
    function testFuzz_emptyProofIsTheLeaf(bytes32 leaf) public view {
        (bytes32 ours,) = this.processBoth(new bytes32[](0), leaf);
        assertEq(ours, leaf);
    }

    /// The leaf is the rewards.md leaf, for any account and amount.
    function testFuzz_leafMatchesTheStandardLeaf(address account, uint256 cumulative) public pure {
        assertEq(RewardsMerkle.leaf(account, cumulative), keccak256(bytes.concat(keccak256(abi.encode(account, cumulative)))));
        assertEq(RewardsMerkle.leaf(account, cumulative), FourLeafTree.leaf(account, cumulative));
    }

    /// Proofs of a real four-leaf tree reach its root.
    function testFuzz_realTreeProofsReachTheRoot(address[4] memory accounts, uint256[4] memory cumulatives, uint8 index)
        public
        view
    {
        bytes32[4] memory l = FourLeafTree.leaves(accounts, cumulatives);
        uint256 i = index % 4;
        (bytes32 ours,) = this.processBoth(FourLeafTree.proof(l, i), RewardsMerkle.leaf(accounts[i], cumulatives[i]));
        assertEq(ours, FourLeafTree.root(l));
    }
}
