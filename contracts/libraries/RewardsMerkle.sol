// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

/// @title RewardsMerkle
/// @notice Cumulative-reward leaves (rewards.md) and Merkle proofs over sorted pairs (the
/// OpenZeppelin StandardMerkleTree format), hashed in assembly in the scratch space: the same
/// results as the Solidity `keccak256(bytes.concat(keccak256(abi.encode(account, cumulative))))`
/// and OpenZeppelin's `MerkleProof.processProofCalldata`, without their memory allocations,
/// per-element bounds checks and per-pair internal calls (the proof loop is Solady's).
library RewardsMerkle {
    /// @notice The leaf of `account` with `cumulative`:
    /// `keccak256(bytes.concat(keccak256(abi.encode(account, cumulative))))`.
    function leaf(address account, uint256 cumulative) internal pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            // abi.encode(account, cumulative): the address zero-extended to a word, then the amount.
            mstore(0x00, and(account, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(0x20, cumulative)
            mstore(0x00, keccak256(0x00, 0x40))
            hash := keccak256(0x00, 0x20)
        }
    }

    /// @notice The root reached from `leaf_` through `proof`, hashing each pair smaller word first.
    /// @dev The ABI decoder has already checked that `proof` lies within the calldata, so reading
    /// `proof.length` words from `proof.offset` stays in bounds.
    function processProofCalldata(bytes32[] calldata proof, bytes32 leaf_) internal pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            hash := leaf_
            if proof.length {
                let p := proof.offset
                let end := add(p, shl(5, proof.length))
                for {} 1 {} {
                    let sibling := calldataload(p)
                    // Sorted pair: the larger word goes second. `slot` is 0x20 when `hash` is
                    // the larger, so `hash` lands at 0x20 and `sibling` at 0x00, else the reverse.
                    let slot := shl(5, gt(hash, sibling))
                    mstore(slot, hash)
                    mstore(xor(slot, 0x20), sibling)
                    hash := keccak256(0x00, 0x40)
                    p := add(p, 0x20)
                    if eq(p, end) { break }
                }
            }
        }
    }
}
