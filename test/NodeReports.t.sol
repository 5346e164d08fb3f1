// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {SlashingFixture} from "./invariants/SlashingFixture.sol";
import {INodeReports} from "../contracts/interfaces/INodeReports.sol";
import {INodeRegistry} from "../contracts/interfaces/INodeRegistry.sol";
import {IBondManager} from "../contracts/interfaces/IBondManager.sol";

/// @dev Fuzzed confirmations: any bond split, cap, reporter share and slash share.
contract NodeReportsFuzzTest is SlashingFixture {
    address internal constant ACCOUNT = address(0xA11CE);

    function setUp() public {
        _deploy();
    }

    /// A confirmation takes exactly floor(bond * slashPpm / 1e6) <= maxSlashPpm of the slashable
    /// bond, active first, and splits it exactly between the reporter's bond and the buyback.
    function testFuzz_confirmSlashesWithinCapAndSplitsExactly(
        uint256 assets,
        uint256 pendingPart,
        uint256 maxSlashPpm,
        uint256 slashPpm,
        uint256 reporterSharePpm
    ) public {
        assets = bound(assets, 1, 1e8 ether);
        maxSlashPpm = bound(maxSlashPpm, 1, 1e6);
        slashPpm = bound(slashPpm, 0, maxSlashPpm);
        reporterSharePpm = bound(reporterSharePpm, 0, 1e6);
        params.setParameter("maxSlashPpm", maxSlashPpm);
        params.setParameter("slashReporterSharePpm", reporterSharePpm);

        uint256 shares = _stakeAndBond(ACCOUNT, assets);
        pendingPart = bound(pendingPart, 0, shares);
        if (pendingPart != 0) {
            vm.prank(ACCOUNT);
            bonds.requestUnbond(pendingPart);
        }
        uint256 activeBefore = shares - pendingPart;
        address nodeKey = _registerNode(ACCOUNT);
        uint256 id = _report(nodeKey, keccak256("evidence"));

        reports.confirmReport(id, slashPpm);

        uint256 slashed = shares - bonds.bondedShares(ACCOUNT);
        assertEq(slashed, shares * slashPpm / 1e6, "slash is exactly the asked share, rounded down");
        assertLe(slashed * 1e6, shares * maxSlashPpm, "slash within the cap");
        uint256 fromActive = activeBefore - bonds.activeShares(ACCOUNT);
        (uint256 pendingAfter,) = bonds.pendingUnbond(ACCOUNT);
        assertEq(fromActive + (pendingPart - pendingAfter), slashed);
        if (slashed < activeBefore) assertEq(pendingAfter, pendingPart, "pending untouched while active covers it");
        else assertEq(bonds.activeShares(ACCOUNT), 0, "active bond emptied before pending");

        uint256 reporterShares = bonds.bondedShares(REPORTER);
        assertEq(reporterShares, slashed * reporterSharePpm / 1e6, "reporter share rounded down");
        assertEq(reporterShares + vault.balanceOf(address(buyback)), slashed, "reporter + burn == slashed");
        assertEq(vault.balanceOf(address(reports)), 0, "reports keep nothing");
        assertEq(uint8(registry.getNode(nodeKey).status), uint8(INodeRegistry.NodeStatus.Banned));
    }

    /// Any share above the live cap is refused, and the report stays open.
    function testFuzz_slashAboveCapReverts(uint256 maxSlashPpm, uint256 slashPpm) public {
        maxSlashPpm = bound(maxSlashPpm, 1, 1e6);
        slashPpm = bound(slashPpm, maxSlashPpm + 1, type(uint256).max);
        params.setParameter("maxSlashPpm", maxSlashPpm);
        _stakeAndBond(ACCOUNT, 1 ether);
        uint256 id = _report(_registerNode(ACCOUNT), keccak256("evidence"));
        vm.expectRevert(abi.encodeWithSelector(INodeReports.SlashAboveCap.selector, slashPpm, maxSlashPpm));
        reports.confirmReport(id, slashPpm);
        assertEq(uint8(reports.getReport(id).status), uint8(INodeReports.ReportStatus.Open));
    }

    /// However long a report stays open, the account's pending unbond cannot leave; once the
    /// report is dismissed it can, in full.
    function testFuzz_reportedAccountNeverWithdraws(uint256 assets, uint256 wait) public {
        assets = bound(assets, 1, 1e8 ether);
        wait = bound(wait, 0, 10 * 365 days);
        uint256 shares = _stakeAndBond(ACCOUNT, assets);
        vm.prank(ACCOUNT);
        bonds.requestUnbond(shares);
        uint256 id = _report(_registerNode(ACCOUNT), keccak256("evidence"));
        (, uint64 unlocksAt) = bonds.pendingUnbond(ACCOUNT);
        vm.warp(unlocksAt + wait);
        vm.expectRevert(abi.encodeWithSelector(IBondManager.BondIsFrozen.selector, ACCOUNT));
        vm.prank(ACCOUNT);
        bonds.withdrawUnbonded();

        reports.dismissReport(id, "dismissed");
        vm.prank(ACCOUNT);
        bonds.withdrawUnbonded();
        assertEq(vault.balanceOf(ACCOUNT), shares);
        assertEq(bonds.bondedShares(ACCOUNT), 0);
    }
}
