// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IBondManager} from "../interfaces/IBondManager.sol";
import {IStakedPod} from "../interfaces/IStakedPod.sol";
import {IProtocolParams} from "../interfaces/IProtocolParams.sol";

/// @title BondManager
/// @notice Holds every account's bonded sPOD. The active bond is checkpointed by timestamp so
/// the oracle can read it at an epoch's close; one pending unbond per account waits out the
/// unbonding period and stays slashable until withdrawn; a frozen account (a report against one
/// of its nodes is open) withdraws nothing.
contract BondManager is AccessControl, IBondManager {
    using Checkpoints for Checkpoints.Trace208;
    using SafeCast for uint256;

    /// @notice May take bonds (the slashing contract, governance).
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    /// @notice May bond on behalf of an account (the rewards distributor's bonded claims).
    bytes32 public constant BOND_FOR_ROLE = keccak256("BOND_FOR_ROLE");
    /// @notice May freeze and unfreeze withdrawals (node reports, while a report is open).
    bytes32 public constant FREEZER_ROLE = keccak256("FREEZER_ROLE");

    struct PendingUnbond {
        uint128 shares;
        uint64 unlocksAt;
    }

    IStakedPod public immutable stakedPod;
    IProtocolParams public immutable params;

    mapping(address account => Checkpoints.Trace208) private _active;
    mapping(address account => PendingUnbond) private _pending;
    mapping(address account => uint256) private _freezes;

    constructor(IStakedPod stakedPod_, IProtocolParams params_, address admin) {
        stakedPod = stakedPod_;
        params = params_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IBondManager
    function bond(uint256 shares) external {
        _bond(msg.sender, msg.sender, shares);
    }

    /// @inheritdoc IBondManager
    function bondFor(address account, uint256 shares) external onlyRole(BOND_FOR_ROLE) {
        _bond(msg.sender, account, shares);
    }

    /// @inheritdoc IBondManager
    function requestUnbond(uint256 shares) external {
        if (shares == 0) revert ZeroShares();
        uint256 active = _active[msg.sender].latest();
        if (shares > active) revert InsufficientActiveBond(msg.sender, shares, active);
        _setActive(msg.sender, active - shares);
        PendingUnbond storage p = _pending[msg.sender];
        uint128 pendingShares = p.shares + shares.toUint128();
        uint64 unlocksAt = (block.timestamp + params.unbondingPeriod()).toUint64();
        (p.shares, p.unlocksAt) = (pendingShares, unlocksAt);
        emit UnbondRequested(msg.sender, shares, pendingShares, unlocksAt);
    }

    /// @inheritdoc IBondManager
    function cancelUnbond() external {
        uint256 shares = _pending[msg.sender].shares;
        if (shares == 0) revert NoPendingUnbond(msg.sender);
        delete _pending[msg.sender];
        uint256 active = _active[msg.sender].latest() + shares;
        _setActive(msg.sender, active);
        emit UnbondCancelled(msg.sender, shares, active);
    }

    /// @inheritdoc IBondManager
    function withdrawUnbonded() external {
        PendingUnbond memory p = _pending[msg.sender];
        if (p.shares == 0) revert NoPendingUnbond(msg.sender);
        if (_freezes[msg.sender] != 0) revert BondIsFrozen(msg.sender);
        if (block.timestamp < p.unlocksAt) revert UnbondingNotElapsed(msg.sender, p.unlocksAt);
        delete _pending[msg.sender];
        emit UnbondWithdrawn(msg.sender, p.shares);
        stakedPod.unlockTo(msg.sender, msg.sender, p.shares);
    }

    /// @inheritdoc IBondManager
    function freeze(address account) external onlyRole(FREEZER_ROLE) {
        if (account == address(0)) revert ZeroAccount();
        uint256 freezes = ++_freezes[account];
        emit BondFrozen(account, freezes);
    }

    /// @inheritdoc IBondManager
    function unfreeze(address account) external onlyRole(FREEZER_ROLE) {
        uint256 freezes = _freezes[account];
        if (freezes == 0) revert BondNotFrozen(account);
        _freezes[account] = --freezes;
        emit BondUnfrozen(account, freezes);
    }

    /// @inheritdoc IBondManager
    function slash(address account, uint256 shares, address recipient, bytes32 reason)
        external
        onlyRole(SLASHER_ROLE)
        returns (uint256)
    {
        if (shares == 0) revert ZeroShares();
        if (recipient == address(0)) revert ZeroAccount();
        uint256 active = _active[account].latest();
        uint256 fromActive = Math.min(shares, active);
        uint128 pending = _pending[account].shares;
        uint256 fromPending = Math.min(shares - fromActive, pending);
        uint256 total = fromActive + fromPending;
        if (total == 0) revert NothingToSlash(account);
        if (fromActive != 0) _setActive(account, active - fromActive);
        // fromPending <= pending, which fits in uint128.
        if (fromPending == pending && pending != 0) delete _pending[account];
        else if (fromPending != 0) _pending[account].shares = pending - uint128(fromPending);
        emit Slashed(account, recipient, fromActive, fromPending, reason);
        stakedPod.unlockTo(account, recipient, total);
        return total;
    }

    /// @inheritdoc IBondManager
    function freezesOf(address account) external view returns (uint256) {
        return _freezes[account];
    }

    /// @inheritdoc IBondManager
    function activeShares(address account) external view returns (uint256) {
        return _active[account].latest();
    }

    /// @inheritdoc IBondManager
    function activeSharesAt(address account, uint256 timepoint) public view returns (uint256) {
        if (timepoint > block.timestamp) revert FutureLookup(timepoint, block.timestamp);
        return _active[account].upperLookupRecent(timepoint.toUint48());
    }

    /// @inheritdoc IBondManager
    function activeBondAt(address account, uint256 timepoint) external view returns (uint256) {
        return Math.mulDiv(activeSharesAt(account, timepoint), stakedPod.rateAt(timepoint), 1e27);
    }

    /// @inheritdoc IBondManager
    function pendingUnbond(address account) external view returns (uint256 shares, uint64 unlocksAt) {
        PendingUnbond memory p = _pending[account];
        return (p.shares, p.unlocksAt);
    }

    /// @inheritdoc IBondManager
    function bondedShares(address account) external view returns (uint256) {
        return _active[account].latest() + _pending[account].shares;
    }

    function _bond(address payer, address account, uint256 shares) private {
        if (shares == 0) revert ZeroShares();
        if (account == address(0)) revert ZeroAccount();
        uint256 active = _active[account].latest() + shares;
        _setActive(account, active);
        emit Bonded(account, payer, shares, active);
        stakedPod.lockFor(payer, account, shares);
    }

    function _setActive(address account, uint256 shares) private {
        _active[account].push(uint48(block.timestamp), shares.toUint208());
    }
}
