// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {RecentVotes} from "../governance/RecentVotes.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {IStakedPod} from "../interfaces/IStakedPod.sol";
import {IBondManager} from "../interfaces/IBondManager.sol";
import {IProtocolParams} from "../interfaces/IProtocolParams.sol";

/// @title StakedPod (sPOD)
/// @notice Auto-compounding ERC-4626 vault over POD with a stkAAVE-style cooldown and votes.
/// @dev Inflation-attack safety comes from OpenZeppelin's virtual shares with a decimals offset
/// of 6: a donation must exceed a victim's deposit a million times over to round it away.
/// Votes are counted in shares and converted to POD with the recorded rate ({rateAt}); the
/// vault keeps no total-votes checkpoints (quorum counts POD's supply, which includes the POD
/// held here), so a deposit by an undelegated account writes no checkpoint.
contract StakedPod is ERC4626, ERC20Permit, RecentVotes, Ownable, IStakedPod {
    using Checkpoints for Checkpoints.Trace208;
    using SafeCast for uint256;

    uint8 private constant DECIMALS_OFFSET = 6;
    uint256 private constant RATE_SCALE = 1e27;
    /// @dev Rate rises smaller than 1 / RATE_TOLERANCE (rounding dust) are not worth a record.
    uint256 private constant RATE_TOLERANCE = 1e9;

    IProtocolParams public immutable params;
    address public bondManager;

    mapping(address account => Cooldown) private _cooldowns;
    /// @dev Every recorded rate, for lookups before the latest record.
    Checkpoints.Trace208 private _rates;
    /// @dev The latest record in one slot: most lookups (votes at a recent snapshot, bonds at
    /// the last epoch close) are at or after it and cost a single read.
    Checkpoints.Checkpoint208 private _latestRate;

    constructor(IERC20 pod, IProtocolParams params_, address initialOwner)
        ERC20("Staked POD", "sPOD")
        ERC20Permit("Staked POD")
        ERC4626(pod)
        Ownable(initialOwner)
    {
        params = params_;
        _recordRate(clock(), _currentRate());
    }

    modifier onlyBondManager() {
        if (msg.sender != bondManager) revert CallerNotBondManager(msg.sender);
        _;
    }

    /// @notice Wires the bond manager, once. Owner only.
    function setBondManager(address manager) external onlyOwner {
        if (bondManager != address(0) || manager == address(0)) revert BondManagerAlreadySet(bondManager);
        bondManager = manager;
        emit BondManagerSet(manager);
    }

    // ---------------------------------------------------------------- cooldown

    /// @inheritdoc IStakedPod
    function cooldown(uint256 shares) external {
        if (shares == 0) revert ZeroShares();
        uint256 balance = balanceOf(msg.sender);
        if (shares > balance) revert CooldownExceedsBalance(msg.sender, shares, balance);
        uint64 opensAt = (block.timestamp + params.stakeCooldown()).toUint64();
        uint64 closesAt = opensAt + params.unstakeWindow().toUint64();
        _cooldowns[msg.sender] = Cooldown(shares.toUint128(), opensAt, closesAt);
        emit CooldownStarted(msg.sender, shares, opensAt, closesAt);
    }

    /// @inheritdoc IStakedPod
    function cancelCooldown() external {
        if (_cooldowns[msg.sender].shares == 0) revert CooldownNotStarted(msg.sender);
        delete _cooldowns[msg.sender];
        emit CooldownCancelled(msg.sender);
    }

    /// @inheritdoc IStakedPod
    function cooldownOf(address account) external view returns (Cooldown memory) {
        return _cooldowns[account];
    }

    /// @notice Zero outside the owner's unstake window; the cooled amount (capped by the balance) inside it.
    function maxRedeem(address owner) public view override(ERC4626, IERC4626) returns (uint256) {
        Cooldown memory c = _cooldowns[owner];
        if (block.timestamp < c.opensAt || block.timestamp >= c.closesAt) return 0;
        return Math.min(c.shares, balanceOf(owner));
    }

    /// @notice The assets that {maxRedeem} shares are worth now.
    function maxWithdraw(address owner) public view override(ERC4626, IERC4626) returns (uint256) {
        return _convertToAssets(maxRedeem(owner), Math.Rounding.Floor);
    }

    /// @notice Redeems inside the owner's unstake window; reverts with the window's error outside it.
    function redeem(uint256 shares, address receiver, address owner)
        public
        override(ERC4626, IERC4626)
        returns (uint256)
    {
        _requireUnstakeWindow(owner);
        return super.redeem(shares, receiver, owner);
    }

    /// @notice Withdraws inside the owner's unstake window; reverts with the window's error outside it.
    function withdraw(uint256 assets, address receiver, address owner)
        public
        override(ERC4626, IERC4626)
        returns (uint256)
    {
        _requireUnstakeWindow(owner);
        return super.withdraw(assets, receiver, owner);
    }

    function _requireUnstakeWindow(address owner) private view {
        Cooldown memory c = _cooldowns[owner];
        if (c.shares == 0) revert CooldownNotStarted(owner);
        if (block.timestamp < c.opensAt) revert CooldownNotElapsed(owner, c.opensAt);
        if (block.timestamp >= c.closesAt) revert UnstakeWindowClosed(owner, c.closesAt);
    }

    /// @dev Records the rate before minting when POD arrived since the last record (a direct
    /// transfer rather than the buyback): otherwise the new shares would count at a stale,
    /// lower rate and staking would cost the depositor votes. Rounding moves the rate by far
    /// less than the tolerance, so ordinary deposits only read one slot.
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        uint256 recorded = _latestRate._value;
        uint256 rate = _currentRate();
        if (rate > recorded + recorded / RATE_TOLERANCE) _recordRate(clock(), rate);
        super._deposit(caller, receiver, assets, shares);
    }

    /// @dev Spends the cooldown before burning, so the transfer hook below sees it consistent.
    function _withdraw(address caller, address receiver, address owner, uint256 assets, uint256 shares)
        internal
        override
    {
        // maxRedeem already bounded `shares` by the cooled amount.
        uint128 remaining = _cooldowns[owner].shares - shares.toUint128();
        _cooldowns[owner].shares = remaining;
        emit CooldownReduced(owner, remaining);
        super._withdraw(caller, receiver, owner, assets, shares);
        _checkpointRateIfChanged();
    }

    /// @dev Shares that leave a holder cap its cooled amount to what it still holds, so an
    /// emptied account cannot keep a matured cooldown for shares it receives later.
    function _capCooldown(address account) private {
        uint128 cooled = _cooldowns[account].shares;
        if (cooled == 0) return;
        uint256 balance = balanceOf(account);
        if (cooled > balance) {
            _cooldowns[account].shares = uint128(balance); // balance < cooled <= uint128 max
            emit CooldownReduced(account, balance);
        }
    }

    // ---------------------------------------------------------------- rate

    /// @inheritdoc IStakedPod
    function checkpointRate() external {
        _checkpointRateIfChanged();
    }

    /// @inheritdoc IStakedPod
    function rateAt(uint256 timepoint) public view returns (uint256) {
        uint48 now_ = clock();
        if (timepoint > now_) revert FutureLookup(timepoint, now_);
        Checkpoints.Checkpoint208 memory latest = _latestRate;
        if (timepoint >= latest._key) return latest._value;
        uint256 rate = _rates.upperLookupRecent(timepoint.toUint48());
        // Before the first record (deployment) the vault was empty: the virtual rate.
        return rate == 0 ? RATE_SCALE / 10 ** DECIMALS_OFFSET : rate;
    }

    /// @inheritdoc IStakedPod
    function getPastVotesInAssets(address account, uint256 timepoint) external view returns (uint256) {
        uint256 shares = getPastVotes(account, timepoint);
        return shares == 0 ? 0 : Math.mulDiv(shares, rateAt(timepoint), RATE_SCALE);
    }

    /// @dev Mirrors ERC-4626's virtual-share conversion: (assets + 1) / (supply + 10^offset).
    function _currentRate() private view returns (uint256) {
        return Math.mulDiv(totalAssets() + 1, RATE_SCALE, totalSupply() + 10 ** DECIMALS_OFFSET);
    }

    function _checkpointRateIfChanged() private {
        uint256 rate = _currentRate();
        if (rate == _latestRate._value) return;
        _recordRate(clock(), rate);
    }

    function _recordRate(uint48 timepoint, uint256 rate) private {
        uint208 value = rate.toUint208();
        _rates.push(timepoint, value);
        _latestRate = Checkpoints.Checkpoint208(timepoint, value);
        emit ExchangeRateCheckpointed(timepoint, rate);
    }

    // ---------------------------------------------------------------- bond hooks

    /// @inheritdoc IStakedPod
    function lockFor(address from, address account, uint256 shares) external onlyBondManager {
        ERC20._update(from, msg.sender, shares);
        _moveDelegateVotes(delegates(from), delegates(account), shares);
        _capCooldown(from);
    }

    /// @inheritdoc IStakedPod
    function unlockTo(address account, address to, uint256 shares) external onlyBondManager {
        ERC20._update(msg.sender, to, shares);
        _moveDelegateVotes(delegates(account), delegates(to), shares);
    }

    // ---------------------------------------------------------------- votes

    /// @notice Votes are checkpointed by timestamp, like POD's.
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice EIP-6372 clock description.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice Not tracked: governance measures quorum against POD's total supply.
    function getPastTotalSupply(uint256) public pure override returns (uint256) {
        revert TotalVotesNotTracked();
    }

    /// @dev A holder's voting units: the shares it holds plus those bonded for it.
    function _getVotingUnits(address account) internal view override returns (uint256) {
        address manager = bondManager;
        uint256 bonded = manager == address(0) ? 0 : IBondManager(manager).bondedShares(account);
        return balanceOf(account) + bonded;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        // Mints and burns skip the zero address's delegate lookup (it never delegates).
        address fromDelegate = from == address(0) ? address(0) : delegates(from);
        address toDelegate = to == address(0) ? address(0) : delegates(to);
        _moveDelegateVotes(fromDelegate, toDelegate, value);
        if (from != address(0)) _capCooldown(from);
    }

    // ---------------------------------------------------------------- plumbing

    function decimals() public view override(ERC20, ERC4626, IERC20Metadata) returns (uint8) {
        return super.decimals();
    }

    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return DECIMALS_OFFSET;
    }
}
