// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";

/// @title IStakedPod
/// @notice Auto-compounding staked POD (sPOD): an ERC-4626 vault over POD whose share price
/// rises whenever POD is sent to it. Leaving takes a cooldown, then an unstake window in which
/// at most the snapshotted amount can be redeemed. sPOD carries votes (in shares) that follow
/// the holder through bonding, so staking or bonding never costs a vote.
interface IStakedPod is IERC4626 {
    /// @notice A holder's pending exit: `shares` may be redeemed in [opensAt, closesAt).
    struct Cooldown {
        uint128 shares;
        uint64 opensAt;
        uint64 closesAt;
    }

    /// @notice Thrown when a zero amount is given.
    error ZeroShares();
    /// @notice Thrown when a cooldown asks for more shares than the holder has.
    error CooldownExceedsBalance(address account, uint256 shares, uint256 balance);
    /// @notice Thrown on redeem/withdraw by an owner that never started a cooldown.
    error CooldownNotStarted(address owner);
    /// @notice Thrown on redeem/withdraw before the unstake window opens.
    error CooldownNotElapsed(address owner, uint256 opensAt);
    /// @notice Thrown on redeem/withdraw after the unstake window closed.
    error UnstakeWindowClosed(address owner, uint256 closedAt);
    /// @notice Thrown when someone other than the bond manager calls a bond hook.
    error CallerNotBondManager(address caller);
    /// @notice Thrown when the bond manager is set twice or to zero.
    error BondManagerAlreadySet(address current);
    /// @notice Thrown when a past-value lookup asks for the future.
    error FutureLookup(uint256 timepoint, uint256 clock);
    /// @notice Thrown by the unsupported total-votes lookup (quorum counts POD's supply).
    error TotalVotesNotTracked();

    /// @notice Emitted when a holder starts (or restarts) a cooldown.
    event CooldownStarted(address indexed account, uint256 shares, uint64 opensAt, uint64 closesAt);
    /// @notice Emitted when a cooldown's amount shrinks: redeemed, or capped when shares left the holder.
    event CooldownReduced(address indexed account, uint256 remainingShares);
    /// @notice Emitted when a holder cancels a cooldown.
    event CooldownCancelled(address indexed account);
    /// @notice Emitted when the assets-per-share rate used for votes and bond values is recorded.
    event ExchangeRateCheckpointed(uint256 timepoint, uint256 rateRay);
    /// @notice Emitted once, when the bond manager is wired.
    event BondManagerSet(address indexed bondManager);

    /// @notice Starts a cooldown over `shares` of the caller's sPOD; restarts any previous one.
    function cooldown(uint256 shares) external;

    /// @notice Cancels the caller's cooldown.
    function cancelCooldown() external;

    /// @notice The cooldown of `account`.
    function cooldownOf(address account) external view returns (Cooldown memory);

    /// @notice Records the current assets-per-share rate if it changed since the last record.
    /// Anyone may call it; the buyback calls it after adding POD.
    function checkpointRate() external;

    /// @notice The assets-per-share rate (scaled by 1e27) recorded at or before `timepoint`.
    function rateAt(uint256 timepoint) external view returns (uint256);

    /// @notice Past votes of `account` at `timepoint`, in POD at that time's recorded rate.
    function getPastVotesInAssets(address account, uint256 timepoint) external view returns (uint256);

    /// @notice The bond manager allowed to call the bond hooks.
    function bondManager() external view returns (address);

    /// @notice Bond hook: moves `shares` from `from` into the bond manager, keeping their votes
    /// with `account`, the account they are bonded for. Bond manager only.
    function lockFor(address from, address account, uint256 shares) external;

    /// @notice Bond hook: moves `shares` bonded for `account` out of the bond manager to `to`
    /// (the account itself on withdrawal, a slash recipient otherwise). Bond manager only.
    function unlockTo(address account, address to, uint256 shares) external;
}
