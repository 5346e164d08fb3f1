// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {PodToken} from "../../contracts/token/PodToken.sol";
import {StakedPod} from "../../contracts/staking/StakedPod.sol";
import {BondManager} from "../../contracts/staking/BondManager.sol";
import {ProtocolParams} from "../../contracts/governance/ProtocolParams.sol";
import {NodeRegistry} from "../../contracts/settlement/NodeRegistry.sol";
import {NodeReports} from "../../contracts/settlement/NodeReports.sol";
import {INodeReports} from "../../contracts/interfaces/INodeReports.sol";

/// @dev Drives bonding, unbonding, reports, confirmations (any share, sometimes above the cap),
/// dismissals and cap changes, checking each confirmation and keeping ghost totals; tries to
/// withdraw matured unbonds of frozen accounts.
/// Owns ProtocolParams and holds CONFIRMER_ROLE.
contract SlashingHandler is CommonBase, StdUtils {
    struct Deployment {
        PodToken pod;
        StakedPod vault;
        BondManager bonds;
        ProtocolParams params;
        NodeRegistry registry;
        NodeReports reports;
        address buyback;
        address reporter;
    }

    Deployment private _d;
    address[] private _actors;
    uint256[] private _open;
    uint256 private _nextKeyPk = 0xC0FFEE;

    uint256 public ghostBonded;
    uint256 public ghostWithdrawn;
    uint256 public ghostSlashed;
    uint256 public ghostBurned;
    uint256 public ghostReporterShares;
    uint256 public ghostPoolShares;
    bool public slashAboveCap;
    bool public splitBroken;
    bool public aboveCapAccepted;
    bool public frozenWithdrew;
    /// @dev Open reports naming each account: the freezes its bond must carry.
    mapping(address account => uint256) public openAgainst;

    constructor(Deployment memory d, address[] memory actors_) {
        (_d, _actors) = (d, actors_);
    }

    function openReports() external view returns (uint256) {
        return _open.length;
    }

    function stakeAndBond(uint256 seed, uint256 assets) external {
        address a = _actor(seed);
        assets = bound(assets, 0, _d.pod.balanceOf(a));
        if (assets == 0) return;
        vm.startPrank(a);
        _d.pod.approve(address(_d.vault), assets);
        uint256 shares = _d.vault.deposit(assets, a);
        _d.bonds.bond(shares);
        vm.stopPrank();
        ghostBonded += shares;
    }

    function requestUnbond(uint256 seed, uint256 shares) external {
        address a = _actor(seed);
        shares = bound(shares, 0, _d.bonds.activeShares(a));
        if (shares == 0) return;
        vm.prank(a);
        _d.bonds.requestUnbond(shares);
    }

    function withdrawUnbonded(uint256 seed) external {
        address a = _actor(seed);
        (uint256 pending, uint64 unlocksAt) = _d.bonds.pendingUnbond(a);
        if (pending == 0 || block.timestamp < unlocksAt) return;
        if (_d.bonds.freezesOf(a) != 0) {
            // An open report freezes the bond: a matured unbond must not leave.
            vm.prank(a);
            try _d.bonds.withdrawUnbonded() {
                frozenWithdrew = true;
                ghostWithdrawn += pending;
            } catch {}
            return;
        }
        vm.prank(a);
        _d.bonds.withdrawUnbonded();
        ghostWithdrawn += pending;
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 1, 60 days));
    }

    /// Governance moves the cap and the reporter's share.
    function setShares(uint256 maxSlashPpm, uint256 reporterPpm) external {
        _d.params.setParameter("maxSlashPpm", bound(maxSlashPpm, 1, 1e6));
        _d.params.setParameter("slashReporterSharePpm", bound(reporterPpm, 0, 1e6));
    }

    /// The reporter reports a fresh node of an actor.
    function report(uint256 seed) external {
        address a = _actor(seed);
        uint256 pk = _nextKeyPk++;
        address nodeKey = vm.addr(pk);
        bytes32[] memory models = new bytes32[](1);
        models[0] = "model";
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, _d.registry.keyOwnershipDigest(a, nodeKey));
        vm.prank(a);
        _d.registry.registerNode(nodeKey, models, "", abi.encodePacked(r, s, v));
        vm.prank(_d.reporter);
        _open.push(_d.reports.reportNode(nodeKey, keccak256(abi.encode(pk)), new bytes32[](0)));
        ++openAgainst[a];
    }

    function confirm(uint256 idSeed, uint256 slashPpm) external {
        if (_open.length == 0) return;
        (uint256 id, address account) = _take(idSeed);
        uint256 cap = _d.params.getParameter("maxSlashPpm");
        if (slashPpm % 8 == 0) {
            // Sometimes ask for more than the cap: it must be refused.
            try _d.reports.confirmReport(id, bound(slashPpm, cap + 1, 1e7)) {
                aboveCapAccepted = true;
            } catch {}
        }
        slashPpm = bound(slashPpm, 0, cap);
        uint256 bonded = _d.bonds.bondedShares(account);
        uint256 reporterBefore = _d.bonds.bondedShares(_d.reporter);
        uint256 buybackBefore = _d.vault.balanceOf(_d.buyback);
        _d.reports.confirmReport(id, slashPpm);

        uint256 slashed = bonded - _d.bonds.bondedShares(account);
        uint256 toReporter = _d.bonds.bondedShares(_d.reporter) - reporterBefore;
        uint256 burned = _d.vault.balanceOf(_d.buyback) - buybackBefore;
        if (slashed * 1e6 > bonded * cap || slashed > bonded) slashAboveCap = true;
        // An unbonded account's reporter is paid from the pool instead: nothing is burned then.
        if (bonded != 0 && toReporter + burned != slashed) splitBroken = true;
        if (bonded == 0 && (slashed != 0 || burned != 0)) splitBroken = true;
        ghostSlashed += slashed;
        ghostBurned += burned;
        if (bonded != 0) ghostReporterShares += toReporter;
        else ghostPoolShares += toReporter;
    }

    function dismiss(uint256 idSeed) external {
        if (_open.length == 0) return;
        (uint256 id,) = _take(idSeed);
        _d.reports.dismissReport(id, "dismissed");
    }

    /// @dev Removes an open report id from the list; returns it and its account.
    function _take(uint256 seed) private returns (uint256 id, address account) {
        uint256 i = seed % _open.length;
        id = _open[i];
        _open[i] = _open[_open.length - 1];
        _open.pop();
        INodeReports.Report memory r = _d.reports.getReport(id);
        account = r.account;
        --openAgainst[account];
    }

    function _actor(uint256 seed) private view returns (address) {
        return _actors[seed % _actors.length];
    }
}
