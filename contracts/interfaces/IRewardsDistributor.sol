// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

/// @title IRewardsDistributor
/// @notice Node rewards, Morpho-URD style. Each epoch an oracle quorum (M of N, governed) proposes
/// the root of a tree of cumulative rewards (leaf: `keccak256(bytes.concat(keccak256(abi.encode(
/// account, cumulative))))`, sorted pairs) with the epoch's total, the hash of its report and the
/// root of the validator-eligible accounts. A root becomes claimable after the challenge window
/// unless governance or a guardian revokes it. An account claims cumulative minus claimed, as
/// liquid POD or as bonded sPOD with the governed bonus. Holds the node rewards pool.
///
/// Pool accounting. Claims are not summed on-chain (a shared counter would cost every claim a
/// storage write), so the contract cannot know what claimable roots still owe. It guarantees per
/// account that nobody is paid beyond the cumulative of the latest claimable root nor twice, and
/// that no leaf exceeds the totals of every root up to its own. It reserves for the roots not yet
/// claimable: a root is accepted only if the pool holds its total beyond theirs, and bonuses and
/// reporter pay come only from what exceeds theirs (`poolSurplus`). Rewards of claimable roots
/// are not reserved against those: they are paid first come, first served, and a claim the
/// balance cannot cover reverts (ERC20InsufficientBalance) until the pool is refilled.
interface IRewardsDistributor {
    enum RootStatus {
        None,
        Proposed,
        Revoked
    }

    /// @notice What the oracles sign for one epoch.
    /// @param epoch The settlement epoch.
    /// @param root Root of the cumulative-reward tree after this epoch.
    /// @param total The epoch's rewards (sum of this epoch's increments), within the budget.
    /// @param reportHash keccak256 of the epoch report's bytes.
    /// @param validatorsRoot Root of the tree of validator-eligible accounts (leaf:
    /// `keccak256(bytes.concat(keccak256(abi.encode(account))))`), zero if none.
    struct EpochRoot {
        uint256 epoch;
        bytes32 root;
        uint256 total;
        bytes32 reportHash;
        bytes32 validatorsRoot;
    }

    /// @notice A proposed root and its state.
    struct EpochRecord {
        bytes32 root;
        bytes32 reportHash;
        bytes32 validatorsRoot;
        uint128 total;
        uint64 claimableAt;
        RootStatus status;
    }

    /// @notice Thrown when an oracle set is empty, has duplicates or an impossible quorum.
    error InvalidOracleSet(uint256 size, uint256 quorum);
    /// @notice Thrown when a proposal skips or repeats an epoch.
    error EpochOutOfOrder(uint256 epoch, uint256 expected);
    /// @notice Thrown when a root is proposed for an epoch that has not closed.
    error EpochNotClosed(uint256 epoch, uint256 closesAt);
    /// @notice Thrown when a signature does not recover to an oracle of the current set.
    error NotOracle(address signer);
    /// @notice Thrown when signers are not in strictly ascending order (no signer counts twice).
    error SignersNotAscending(address signer, address previous);
    /// @notice Thrown when fewer oracles signed than the quorum.
    error QuorumNotReached(uint256 signatures, uint256 quorum);
    /// @notice Thrown when an epoch's total is above its emission budget.
    error EpochBudgetExceeded(uint256 epoch, uint256 total, uint256 budget);
    /// @notice Thrown when the pool cannot cover a new root's total or a bonus beyond what the
    /// roots not yet claimable promise.
    error PoolUnderfunded(uint256 required, uint256 available);
    /// @notice Thrown when revoking a root that is not pending (unknown, revoked or past its window).
    error RootNotRevocable(uint256 epoch, RootStatus status, uint64 claimableAt);
    /// @notice Thrown when no root is claimable yet.
    error NoClaimableRoot();
    /// @notice Thrown when a proof does not lead to the claimable root.
    error InvalidProof(address account, uint256 cumulative, uint256 epoch);
    /// @notice Thrown when everything up to `cumulative` has been claimed.
    error NothingToClaim(address account, uint256 cumulative, uint256 claimed);
    /// @notice Thrown when a leaf's cumulative is above the totals of every root up to its own (a
    /// malformed tree): no leaf may promise more than all epochs together.
    error ClaimExceedsRootTotals(uint256 cumulative, uint256 totals);
    /// @notice Thrown when a zero address or amount is given.
    error ZeroAmount();

    /// @notice Emitted when governance replaces the oracle set.
    event OracleSetChanged(address[] oracles, uint256 quorum);
    /// @notice Emitted when a root is proposed.
    event RootProposed(
        uint256 indexed epoch,
        bytes32 root,
        uint256 total,
        bytes32 reportHash,
        bytes32 validatorsRoot,
        uint64 claimableAt,
        address proposer
    );
    /// @notice Emitted for each revoked root: the one revoked and every pending root after it.
    event RootRevoked(uint256 indexed epoch, address indexed by);
    /// @notice Emitted when `account` claims liquid POD. `amount` is the cumulative increment;
    /// `epoch` the epoch whose root paid (the first of consecutive epochs sharing that root).
    event RewardsClaimed(address indexed account, uint256 indexed epoch, uint256 cumulative, uint256 amount);
    /// @notice Emitted when `account` claims as bonded sPOD: `amount` (the cumulative increment)
    /// plus `bonus` POD, staked and bonded to it. `epoch` as in RewardsClaimed.
    event BondedRewardsClaimed(
        address indexed account, uint256 indexed epoch, uint256 cumulative, uint256 amount, uint256 bonus
    );
    /// @notice Emitted when a reporter is paid from the pool (reports of unbonded nodes).
    event ReporterPaidFromPool(address indexed reporter, uint256 amount);

    /// @notice Proposes `epochRoot` with the oracles' EIP-712 signatures, ordered by signer address
    /// ascending. Anyone may submit.
    function proposeRoot(EpochRoot calldata epochRoot, bytes[] calldata signatures) external;

    /// @notice Revokes the pending root of `epoch` and every pending root after it; the oracles
    /// then propose from `epoch` again. Owner (timelock) or GUARDIAN_ROLE.
    function revokeRoot(uint256 epoch) external;

    /// @notice Pays `account` its `cumulative` reward minus what it claimed, as liquid POD or
    /// (with `asBonded`) as sPOD bonded to it with the bonded-claim bonus. Anyone may call; the
    /// reward goes to `account` only. `proof` must lead to the latest claimable root.
    function claim(address account, uint256 cumulative, bytes32[] calldata proof, bool asBonded)
        external
        returns (uint256 amount);

    /// @notice Replaces the oracle set and quorum. Owner (timelock) only.
    function setOracles(address[] calldata oracles, uint256 quorum) external;

    /// @notice Pays `reporter` `amount` POD from the pool's surplus, bonded as sPOD.
    /// POOL_SPENDER_ROLE only (validator reports of unbonded nodes).
    function payReporter(address reporter, uint256 amount) external returns (uint256 paid);

    /// @notice The latest claimable (accepted, unrevoked, past its window) epoch and its record.
    function claimableEpoch() external view returns (bool exists, uint256 epoch, EpochRecord memory record);

    /// @notice The record of `epoch`.
    function epochRecord(uint256 epoch) external view returns (EpochRecord memory);

    /// @notice The next epoch a root may be proposed for.
    function nextEpoch() external view returns (uint256);

    /// @notice Whether `account` is validator-eligible in the latest claimable epoch.
    function isValidator(address account, bytes32[] calldata proof) external view returns (bool);

    /// @notice What `account` has claimed so far (cumulative).
    function claimed(address account) external view returns (uint256);

    /// @notice The oracle set and quorum.
    function oracles() external view returns (address[] memory oracleSet, uint256 quorum);

    /// @notice POD the pool holds beyond what the roots not yet claimable promise; rewards of
    /// claimable roots that are still unclaimed are not deducted (see the pool accounting above).
    function poolSurplus() external view returns (uint256);

    /// @notice The EIP-712 digest the oracles sign for `epochRoot`.
    function epochRootDigest(EpochRoot calldata epochRoot) external view returns (bytes32);
}
