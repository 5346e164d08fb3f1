// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {PodTest} from "./utils/PodTest.sol";
import {PodToken} from "../contracts/token/PodToken.sol";
import {StakedPod} from "../contracts/staking/StakedPod.sol";
import {ProtocolParams} from "../contracts/governance/ProtocolParams.sol";
import {IProtocolParams} from "../contracts/interfaces/IProtocolParams.sol";
import {IStakedPod} from "../contracts/interfaces/IStakedPod.sol";

/// @dev Fuzz tests of the vault's money paths: conversions, the inflation attack, the window.
contract StakedPodFuzzTest is PodTest {
    uint256 internal constant SUPPLY = 1e9 ether;
    PodToken internal pod;
    StakedPod internal vault;
    address internal alice = address(0xA11CE);
    address internal attacker = address(0xBAD);

    function setUp() public {
        ProtocolParams params = new ProtocolParams(address(this), 0, new bytes32[](0), new uint256[](0));
        pod = new PodToken(address(this), SUPPLY);
        vault = new StakedPod(pod, IProtocolParams(address(params)), address(this));
        pod.transfer(alice, SUPPLY / 4);
        pod.transfer(attacker, SUPPLY / 4);
        vm.prank(alice);
        pod.approve(address(vault), type(uint256).max);
        vm.prank(attacker);
        pod.approve(address(vault), type(uint256).max);
    }

    /// Shares never claim more POD than the vault holds, whatever was deposited or donated.
    function testFuzz_assetsCoverShares(uint256 a, uint256 b, uint256 donation) public {
        a = bound(a, 1, 1e8 ether);
        b = bound(b, 1, 1e8 ether);
        donation = bound(donation, 0, 1e8 ether);
        vm.prank(alice);
        vault.deposit(a, alice);
        pod.transfer(address(vault), donation);
        vm.prank(attacker);
        vault.deposit(b, attacker);
        assertLe(vault.convertToAssets(vault.totalSupply()), pod.balanceOf(address(vault)));
        assertLe(vault.previewRedeem(vault.balanceOf(alice)), a + donation);
    }

    /// The first-depositor attack: a tiny deposit plus a donation never profits the attacker
    /// and costs the victim at most a millionth of the donation.
    function testFuzz_inflationAttackFails(uint256 seed, uint256 donation, uint256 victimDeposit) public {
        seed = bound(seed, 1, 1e6);
        donation = bound(donation, 1, 1e8 ether);
        victimDeposit = bound(victimDeposit, 1 ether, 1e8 ether);
        uint256 attackerStart = pod.balanceOf(attacker);
        vm.startPrank(attacker);
        vault.deposit(seed, attacker);
        pod.transfer(address(vault), donation);
        vm.stopPrank();
        vm.prank(alice);
        uint256 victimShares = vault.deposit(victimDeposit, alice);
        assertGt(victimShares, 0);
        uint256 victimValue = vault.previewRedeem(victimShares);
        // Two roundings of at most one share each; one share is worth ~(seed + donation) / 1e6.
        assertGe(victimValue + 2 * ((seed + donation) / 1e6 + 1), victimDeposit, "victim lost more than rounding");
        uint256 attackerValue = pod.balanceOf(attacker) + vault.previewRedeem(vault.balanceOf(attacker));
        assertLe(attackerValue, attackerStart, "attacker profited");
    }

    /// Redeeming works exactly inside [opensAt, closesAt) and for at most the cooled amount.
    function testFuzz_unstakeWindow(uint256 assets, uint256 cooled, uint256 wait) public {
        assets = bound(assets, 1 ether, 1e6 ether);
        vm.prank(alice);
        uint256 shares = vault.deposit(assets, alice);
        cooled = bound(cooled, 1, shares);
        vm.prank(alice);
        vault.cooldown(cooled);
        IStakedPod.Cooldown memory c = vault.cooldownOf(alice);
        wait = bound(wait, 0, 120 days);
        vm.warp(block.timestamp + wait);
        bool open = block.timestamp >= c.opensAt && block.timestamp < c.closesAt;
        assertEq(vault.maxRedeem(alice), open ? cooled : 0);
        vm.prank(alice);
        if (!open) {
            vm.expectRevert();
            vault.redeem(1, alice, alice);
        } else {
            vault.redeem(cooled, alice, alice);
            assertEq(vault.balanceOf(alice), shares - cooled);
            assertEq(vault.maxRedeem(alice), 0);
        }
    }

    /// Moving shares out never leaves a cooled amount above what the holder still holds.
    function testFuzz_transfersCapCooldown(uint256 assets, uint256 cooled, uint256 moved) public {
        assets = bound(assets, 1 ether, 1e6 ether);
        vm.prank(alice);
        uint256 shares = vault.deposit(assets, alice);
        cooled = bound(cooled, 1, shares);
        moved = bound(moved, 0, shares);
        vm.startPrank(alice);
        vault.cooldown(cooled);
        vault.transfer(attacker, moved);
        vm.stopPrank();
        assertEq(vault.cooldownOf(alice).shares, cooled < shares - moved ? cooled : shares - moved);
        vm.warp(vault.cooldownOf(alice).opensAt);
        assertLe(vault.maxRedeem(alice), vault.balanceOf(alice));
        assertEq(vault.maxRedeem(attacker), 0);
    }
}
