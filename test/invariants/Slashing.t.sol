// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {SlashingFixture} from "./SlashingFixture.sol";
import {SlashingHandler} from "./SlashingHandler.sol";

/// @dev Slashing invariants under random sequences of bonding, unbonding, reports,
/// confirmations at any share (and above the cap), dismissals and cap changes, with withdrawals
/// tried while reports are open.
contract SlashingInvariants is SlashingFixture {
    SlashingHandler internal handler;
    address[] internal actors;

    function setUp() public {
        _deploy();
        for (uint256 i = 1; i <= 3; ++i) {
            address a = address(uint160(0xA000 + i));
            actors.push(a);
            pod.transfer(a, SUPPLY / 8);
        }
        handler = new SlashingHandler(
            SlashingHandler.Deployment(pod, vault, bonds, params, registry, reports, address(buyback), REPORTER), actors
        );
        params.transferOwnership(address(handler));
        reports.grantRole(reports.CONFIRMER_ROLE(), address(handler));
        targetContract(address(handler));
    }

    /// No confirmation takes more than the cap's share of the slashable bond, nor more than it,
    /// and none above the cap is accepted.
    function invariant_slashesWithinCap() public view {
        assertFalse(handler.slashAboveCap(), "a slash exceeded maxSlashPpm of the slashable bond");
        assertFalse(handler.aboveCapAccepted(), "a confirmation above the cap was accepted");
    }

    /// Every slashed share went to the reporter's bond or the buyback; reports keep none.
    function invariant_reporterPlusBurnIsSlashed() public view {
        assertFalse(handler.splitBroken(), "reporter + burn != slashed in a confirmation");
        assertEq(handler.ghostReporterShares() + handler.ghostBurned(), handler.ghostSlashed());
        assertEq(vault.balanceOf(address(buyback)), handler.ghostBurned());
        assertEq(bonds.bondedShares(REPORTER), handler.ghostReporterShares() + handler.ghostPoolShares());
        assertEq(vault.balanceOf(address(reports)), 0);
    }

    /// Slashes only ever take bonded shares: bonded = still bonded + withdrawn + slashed.
    function invariant_slashesComeFromBonds() public view {
        uint256 still;
        for (uint256 i = 0; i < actors.length; ++i) {
            still += bonds.bondedShares(actors[i]);
        }
        assertEq(handler.ghostBonded(), still + handler.ghostWithdrawn() + handler.ghostSlashed());
    }

    /// Every open report freezes its account once, and a frozen account never withdraws.
    function invariant_frozenWhileReported() public view {
        assertFalse(handler.frozenWithdrew(), "a frozen account withdrew its pending unbond");
        for (uint256 i = 0; i < actors.length; ++i) {
            assertEq(bonds.freezesOf(actors[i]), handler.openAgainst(actors[i]), "freezes != open reports");
        }
    }
}
