// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {PodToken} from "../../contracts/token/PodToken.sol";
import {StakedPod} from "../../contracts/staking/StakedPod.sol";
import {BondManager} from "../../contracts/staking/BondManager.sol";

/// @dev Drives random users through every staking and bonding action and keeps ghost totals.
contract StakingHandler is CommonBase, StdUtils {
    PodToken public immutable pod;
    StakedPod public immutable vault;
    BondManager public immutable bonds;
    address[] public actors;

    uint256 public ghostBonded;
    uint256 public ghostWithdrawn;
    uint256 public ghostSlashed;
    uint256 public ghostPodBurned;
    bool public earlyWithdrawalSucceeded;
    bool public slashOfSlashableFailed;
    bool public outOfWindowRedeemSucceeded;

    constructor(PodToken pod_, StakedPod vault_, BondManager bonds_, address[] memory actors_) {
        (pod, vault, bonds, actors) = (pod_, vault_, bonds_, actors_);
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function _actor(uint256 seed) private view returns (address) {
        return actors[seed % actors.length];
    }

    function deposit(uint256 seed, uint256 assets) external {
        address a = _actor(seed);
        assets = bound(assets, 0, pod.balanceOf(a));
        if (assets == 0) return;
        vm.prank(a);
        vault.deposit(assets, a);
    }

    function donate(uint256 seed, uint256 assets) external {
        address a = _actor(seed);
        assets = bound(assets, 0, pod.balanceOf(a) / 10);
        vm.prank(a);
        pod.transfer(address(vault), assets);
        vault.checkpointRate();
    }

    function burn(uint256 seed, uint256 assets) external {
        address a = _actor(seed);
        assets = bound(assets, 0, pod.balanceOf(a) / 100);
        vm.prank(a);
        pod.burn(assets);
        ghostPodBurned += assets;
    }

    function transferShares(uint256 fromSeed, uint256 toSeed, uint256 shares) external {
        address from = _actor(fromSeed);
        shares = bound(shares, 0, vault.balanceOf(from));
        vm.prank(from);
        vault.transfer(_actor(toSeed), shares);
    }

    function cooldown(uint256 seed, uint256 shares) external {
        address a = _actor(seed);
        shares = bound(shares, 0, vault.balanceOf(a));
        if (shares == 0) return;
        vm.prank(a);
        vault.cooldown(shares);
    }

    function redeem(uint256 seed, uint256 shares) external {
        address a = _actor(seed);
        shares = bound(shares, 1, type(uint128).max);
        uint256 max = vault.maxRedeem(a);
        if (max != 0) shares = bound(shares, 1, max);
        vm.prank(a);
        try vault.redeem(shares, a, a) {
            if (max == 0) outOfWindowRedeemSucceeded = true;
        } catch {}
    }

    function bond(uint256 seed, uint256 shares) external {
        address a = _actor(seed);
        shares = bound(shares, 0, vault.balanceOf(a));
        if (shares == 0) return;
        vm.prank(a);
        bonds.bond(shares);
        ghostBonded += shares;
    }

    function requestUnbond(uint256 seed, uint256 shares) external {
        address a = _actor(seed);
        shares = bound(shares, 0, bonds.activeShares(a));
        if (shares == 0) return;
        vm.prank(a);
        bonds.requestUnbond(shares);
    }

    function cancelUnbond(uint256 seed) external {
        address a = _actor(seed);
        (uint256 pending,) = bonds.pendingUnbond(a);
        if (pending == 0) return;
        vm.prank(a);
        bonds.cancelUnbond();
    }

    function withdrawUnbonded(uint256 seed) external {
        address a = _actor(seed);
        (uint256 pending, uint64 unlocksAt) = bonds.pendingUnbond(a);
        if (pending == 0) return;
        vm.prank(a);
        try bonds.withdrawUnbonded() {
            if (block.timestamp < unlocksAt) earlyWithdrawalSucceeded = true;
            ghostWithdrawn += pending;
        } catch {}
    }

    /// Slashes part of an account's bond; anything bonded, active or pending (even matured but
    /// not withdrawn), must be slashable.
    function slash(uint256 seed, uint256 recipientSeed, uint256 shares) external {
        address a = _actor(seed);
        uint256 slashable = bonds.bondedShares(a);
        if (slashable == 0) return;
        shares = bound(shares, 1, slashable);
        try bonds.slash(a, shares, _actor(recipientSeed), "fuzz") returns (uint256 taken) {
            if (taken != shares) slashOfSlashableFailed = true;
            ghostSlashed += taken;
        } catch {
            slashOfSlashableFailed = true;
        }
    }

    /// Moves time, often to the last second of someone's unbonding or into an unstake window.
    function warp(uint256 seed, uint256 mode, uint256 secs) external {
        address a = _actor(seed);
        (, uint64 unlocksAt) = bonds.pendingUnbond(a);
        uint256 opensAt = vault.cooldownOf(a).opensAt;
        mode = mode % 4;
        uint256 target = block.timestamp + bound(secs, 1, 30 days);
        if (mode == 1 && unlocksAt > block.timestamp + 1) target = unlocksAt - 1;
        if (mode == 2 && unlocksAt > block.timestamp) target = unlocksAt;
        if (mode == 3 && opensAt > block.timestamp) target = opensAt;
        vm.warp(target);
    }
}
