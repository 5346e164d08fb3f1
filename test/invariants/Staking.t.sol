// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {PodTest} from "../utils/PodTest.sol";
import {PodToken} from "../../contracts/token/PodToken.sol";
import {StakedPod} from "../../contracts/staking/StakedPod.sol";
import {BondManager} from "../../contracts/staking/BondManager.sol";
import {ProtocolParams} from "../../contracts/governance/ProtocolParams.sol";
import {IProtocolParams} from "../../contracts/interfaces/IProtocolParams.sol";
import {IStakedPod} from "../../contracts/interfaces/IStakedPod.sol";
import {StakingHandler} from "./StakingHandler.sol";

/// @dev Money invariants of staking and bonding under random sequences of every action.
contract StakingInvariants is PodTest {
    uint256 internal constant SUPPLY = 1e9 ether;
    PodToken internal pod;
    StakedPod internal vault;
    BondManager internal bonds;
    StakingHandler internal handler;
    address[] internal actors;

    function setUp() public {
        ProtocolParams params = new ProtocolParams(address(this), 0, new bytes32[](0), new uint256[](0));
        pod = new PodToken(address(this), SUPPLY);
        vault = new StakedPod(pod, IProtocolParams(address(params)), address(this));
        bonds = new BondManager(IStakedPod(address(vault)), IProtocolParams(address(params)), address(this));
        vault.setBondManager(address(bonds));
        for (uint256 i = 1; i <= 4; ++i) {
            address a = address(uint160(0x1000 + i));
            actors.push(a);
            pod.transfer(a, SUPPLY / 8);
            vm.startPrank(a);
            pod.approve(address(vault), type(uint256).max);
            vault.delegate(a);
            vm.stopPrank();
        }
        handler = new StakingHandler(pod, vault, bonds, actors);
        bonds.grantRole(bonds.SLASHER_ROLE(), address(handler));
        targetContract(address(handler));
    }

    /// sPOD's assets always cover its shares.
    function invariant_assetsCoverShares() public view {
        assertLe(vault.convertToAssets(vault.totalSupply()), pod.balanceOf(address(vault)));
    }

    /// Nothing is minted from nothing: POD's supply only shrinks by burns and every POD is held.
    function invariant_noPodFromNothing() public view {
        assertEq(pod.totalSupply(), SUPPLY - handler.ghostPodBurned());
        uint256 held = pod.balanceOf(address(this)) + pod.balanceOf(address(vault));
        for (uint256 i = 0; i < actors.length; ++i) {
            held += pod.balanceOf(actors[i]);
        }
        assertEq(held, pod.totalSupply());
    }

    /// Every share is held by an actor or bonded in the manager.
    function invariant_noSharesFromNothing() public view {
        uint256 held = vault.balanceOf(address(bonds));
        for (uint256 i = 0; i < actors.length; ++i) {
            held += vault.balanceOf(actors[i]);
        }
        assertEq(held, vault.totalSupply());
    }

    /// Bonds conserve: bonded = active + pending + withdrawn + slashed, and the manager holds
    /// exactly the active and pending shares.
    function invariant_bondsConserve() public view {
        uint256 activeAndPending;
        for (uint256 i = 0; i < actors.length; ++i) {
            activeAndPending += bonds.bondedShares(actors[i]);
        }
        assertEq(handler.ghostBonded(), activeAndPending + handler.ghostWithdrawn() + handler.ghostSlashed());
        assertEq(vault.balanceOf(address(bonds)), activeAndPending);
    }

    /// A pending unbond is never withdrawn early and stays slashable to its last second.
    function invariant_pendingStaysSlashable() public view {
        assertFalse(handler.earlyWithdrawalSucceeded(), "unbond withdrawn before its cooldown ended");
        assertFalse(handler.slashOfSlashableFailed(), "a bonded share could not be slashed");
    }

    /// Nobody redeems outside an unstake window.
    function invariant_cooldownEnforced() public view {
        assertFalse(handler.outOfWindowRedeemSucceeded(), "redeemed outside the unstake window");
        for (uint256 i = 0; i < actors.length; ++i) {
            assertLe(vault.cooldownOf(actors[i]).shares, vault.balanceOf(actors[i]));
        }
    }

    /// Votes follow shares through transfers, bonds and slashes: each self-delegated actor's
    /// votes are exactly the shares it holds plus those bonded for it.
    function invariant_votesFollowShares() public view {
        for (uint256 i = 0; i < actors.length; ++i) {
            address a = actors[i];
            assertEq(vault.getVotes(a), vault.balanceOf(a) + bonds.bondedShares(a));
        }
    }
}
