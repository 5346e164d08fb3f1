// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

/// @title IBondManager
/// @notice Per-account bonds of sPOD. A bond covers every node of its account and boosts their
/// rewards. Unbonding takes a cooldown; a pending unbond stops counting as active at once but
/// stays slashable until it is withdrawn. While a report against one of its nodes is open, the
/// account's bond is frozen: nothing is withdrawn until every such report is confirmed or
/// dismissed, so a pending unbond that matures meanwhile stays there to be slashed. Amounts are
/// sPOD shares unless named otherwise.
interface IBondManager {
    /// @notice Thrown when a zero amount is given.
    error ZeroShares();
    /// @notice Thrown when an account is the zero address.
    error ZeroAccount();
    /// @notice Thrown when an unbond asks for more than the active bond.
    error InsufficientActiveBond(address account, uint256 requested, uint256 active);
    /// @notice Thrown when there is no pending unbond to withdraw or cancel.
    error NoPendingUnbond(address account);
    /// @notice Thrown when a pending unbond is withdrawn before its cooldown ends.
    error UnbondingNotElapsed(address account, uint256 unlocksAt);
    /// @notice Thrown when a slash finds nothing slashable.
    error NothingToSlash(address account);
    /// @notice Thrown when a lookup asks for the future.
    error FutureLookup(uint256 timepoint, uint256 clock);
    /// @notice Thrown when a frozen account withdraws its pending unbond.
    error BondIsFrozen(address account);
    /// @notice Thrown when unfreezing an account that is not frozen.
    error BondNotFrozen(address account);

    /// @notice Emitted when `payer` adds `shares` to the active bond of `account`.
    event Bonded(address indexed account, address indexed payer, uint256 shares, uint256 activeShares);
    /// @notice Emitted when an unbond is requested; the whole pending amount unlocks at `unlocksAt`.
    event UnbondRequested(address indexed account, uint256 shares, uint256 pendingShares, uint64 unlocksAt);
    /// @notice Emitted when a pending unbond returns to the active bond.
    event UnbondCancelled(address indexed account, uint256 shares, uint256 activeShares);
    /// @notice Emitted when a pending unbond is withdrawn to its account.
    event UnbondWithdrawn(address indexed account, uint256 shares);
    /// @notice Emitted when a bond is slashed: active bond first, then the pending unbond.
    event Slashed(
        address indexed account,
        address indexed recipient,
        uint256 fromActive,
        uint256 fromPending,
        bytes32 indexed reason
    );
    /// @notice Emitted when `account` is frozen once more; `freezes` is how many freezes now hold it.
    event BondFrozen(address indexed account, uint256 freezes);
    /// @notice Emitted when one freeze on `account` is lifted; it withdraws again once `freezes` is 0.
    event BondUnfrozen(address indexed account, uint256 freezes);

    /// @notice Bonds `shares` of the caller's sPOD to the caller's account (no approval needed).
    function bond(uint256 shares) external;

    /// @notice Bonds `shares` of the caller's sPOD to `account`. BOND_FOR_ROLE only (rewards distributor).
    function bondFor(address account, uint256 shares) external;

    /// @notice Moves `shares` of the caller's active bond to its pending unbond and restarts
    /// the pending unbond's cooldown.
    function requestUnbond(uint256 shares) external;

    /// @notice Returns the caller's whole pending unbond to its active bond.
    function cancelUnbond() external;

    /// @notice Sends the caller's pending unbond back to it once the cooldown has ended and no
    /// freeze holds the caller (BondIsFrozen). Unbonding and cancelling stay open while frozen.
    function withdrawUnbonded() external;

    /// @notice Takes up to `shares` from `account` (active first, then pending) and sends them to
    /// `recipient`, frozen or not. SLASHER_ROLE only. Returns the shares actually slashed.
    function slash(address account, uint256 shares, address recipient, bytes32 reason) external returns (uint256);

    /// @notice Adds one freeze on `account` (one per open report against its nodes); freezes nest.
    /// FREEZER_ROLE only (node reports).
    function freeze(address account) external;

    /// @notice Lifts one freeze from `account` (BondNotFrozen when none holds it). FREEZER_ROLE only.
    function unfreeze(address account) external;

    /// @notice How many freezes hold `account`; it withdraws nothing while this is not 0.
    function freezesOf(address account) external view returns (uint256);

    /// @notice Current active bond in shares.
    function activeShares(address account) external view returns (uint256);

    /// @notice Active bond in shares at `timepoint` (a timestamp not in the future).
    function activeSharesAt(address account, uint256 timepoint) external view returns (uint256);

    /// @notice Active bond at `timepoint` in POD wei, at the vault's recorded rate at that time.
    function activeBondAt(address account, uint256 timepoint) external view returns (uint256);

    /// @notice The pending unbond of `account` and when it unlocks.
    function pendingUnbond(address account) external view returns (uint256 shares, uint64 unlocksAt);

    /// @notice Everything still bonded for `account`: active plus pending, all of it slashable.
    function bondedShares(address account) external view returns (uint256);
}
