// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {INodeReports} from "../interfaces/INodeReports.sol";
import {INodeRegistry} from "../interfaces/INodeRegistry.sol";
import {IBondManager} from "../interfaces/IBondManager.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {IStakedPod} from "../interfaces/IStakedPod.sol";
import {IProtocolParams} from "../interfaces/IProtocolParams.sol";

/// @title NodeReports
/// @notice Validator reports, user flags and their confirmation into slashes and bans. Holds
/// SLASHER_ROLE, BOND_FOR_ROLE and FREEZER_ROLE on the bond manager, SUSPENDER_ROLE and BANNER_ROLE
/// on the registry and POOL_SPENDER_ROLE on the rewards distributor; holds no funds between calls.
contract NodeReports is AccessControl, INodeReports {
    using SafeERC20 for IERC20;

    /// @notice May confirm and dismiss reports (the governance and security timelocks).
    bytes32 public constant CONFIRMER_ROLE = keccak256("CONFIRMER_ROLE");
    /// @notice The most distinct open reports that `reportsToSuspend` may ask for.
    uint256 public constant MAX_REPORTS_TO_SUSPEND = 100;
    uint256 private constant PPM = 1e6;

    /// @dev Per node: open reports (one per reporter), user flags, and whether the reports (not
    /// governance) put the node's current suspension on it, so that dismissals lift only their own.
    struct NodeState {
        uint64 openReports;
        uint64 flags;
        bool suspendedByReports;
    }

    INodeRegistry public immutable registry;
    IBondManager public immutable bondManager;
    IRewardsDistributor public immutable distributor;
    IStakedPod public immutable stakedPod;
    IProtocolParams public immutable params;
    address public immutable buyback;

    mapping(uint256 reportId => Report) private _reports;
    mapping(address nodeKey => NodeState) private _nodes;
    mapping(address nodeKey => mapping(address reporter => bool)) private _reporting;
    uint256 private _reportCount;
    uint256 private _reportsToSuspend;

    constructor(
        INodeRegistry registry_,
        IBondManager bondManager_,
        IRewardsDistributor distributor_,
        IStakedPod stakedPod_,
        IProtocolParams params_,
        address buyback_,
        uint256 reportsToSuspend_,
        address admin
    ) {
        (registry, bondManager, distributor, stakedPod, params, buyback) =
            (registry_, bondManager_, distributor_, stakedPod_, params_, buyback_);
        _setReportsToSuspend(reportsToSuspend_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc INodeReports
    function reportNode(address nodeKey, bytes32 evidenceHash, bytes32[] calldata validatorProof)
        external
        returns (uint256 reportId)
    {
        if (evidenceHash == bytes32(0)) revert EmptyEvidence();
        if (!distributor.isValidator(msg.sender, validatorProof)) revert NotValidator(msg.sender);
        INodeRegistry.Node memory node = _reportable(nodeKey);
        if (node.account == msg.sender) revert SelfReport(msg.sender, nodeKey);
        if (_reporting[nodeKey][msg.sender]) revert DuplicateReport(msg.sender, nodeKey);

        reportId = ++_reportCount;
        _reports[reportId] = Report({
            nodeKey: nodeKey,
            openedAt: uint64(block.timestamp),
            status: ReportStatus.Open,
            account: node.account,
            reporter: msg.sender,
            evidenceHash: evidenceHash
        });
        _reporting[nodeKey][msg.sender] = true;
        NodeState storage state = _nodes[nodeKey];
        // Open reports come from distinct validators, so one validator alone never suspends a node.
        bool suspend = ++state.openReports >= _reportsToSuspend && !node.suspended;
        if (suspend) state.suspendedByReports = true;
        emit NodeReported(reportId, nodeKey, msg.sender, node.account, evidenceHash);

        // Until the report is closed the account withdraws nothing: its pending unbond stays slashable.
        bondManager.freeze(node.account);
        if (suspend) registry.setNodeSuspended(nodeKey, true, evidenceHash);
    }

    /// @inheritdoc INodeReports
    function flagNode(address nodeKey, bytes32 reasonHash) external {
        if (reasonHash == bytes32(0)) revert EmptyEvidence();
        _reportable(nodeKey);
        ++_nodes[nodeKey].flags;
        emit NodeFlagged(nodeKey, msg.sender, reasonHash);
    }

    /// @inheritdoc INodeReports
    function confirmReport(uint256 reportId, uint256 slashPpm) external onlyRole(CONFIRMER_ROLE) {
        Report storage report = _openReport(reportId);
        (address nodeKey, address account, address reporter, bytes32 evidence) =
            (report.nodeKey, report.account, report.reporter, report.evidenceHash);
        // One incident, one slash: a banned key's other reports can only be dismissed.
        if (registry.getNode(nodeKey).status == INodeRegistry.NodeStatus.Banned) revert NodeAlreadyBanned(nodeKey);
        uint256 maxSlashPpm = params.getParameter("maxSlashPpm");
        if (slashPpm > maxSlashPpm) revert SlashAboveCap(slashPpm, maxSlashPpm);
        report.status = ReportStatus.Confirmed;
        _close(nodeKey, reporter);

        registry.banNode(nodeKey, evidence);
        bondManager.unfreeze(account);

        uint256 bonded = bondManager.bondedShares(account);
        uint256 slashed;
        uint256 reporterShares;
        uint256 poolReward;
        if (bonded == 0) {
            uint256 reward = params.getParameter("unbondedReporterReward");
            // Pays at most the pool's surplus: what it returns is what the reporter got.
            if (reward != 0) poolReward = distributor.payReporter(reporter, reward);
        } else {
            // Rounds down, so a slash never exceeds slashPpm (<= maxSlashPpm) of the bond.
            uint256 shares = bonded * slashPpm / PPM;
            if (shares != 0) {
                // Takes exactly `shares` (<= bonded): active first, then the pending unbond.
                slashed = bondManager.slash(account, shares, address(this), evidence);
                reporterShares = slashed * params.getParameter("slashReporterSharePpm") / PPM;
                if (reporterShares != 0) bondManager.bondFor(reporter, reporterShares);
                // The buyback cools the rest down, redeems it and burns the POD.
                if (slashed != reporterShares) IERC20(address(stakedPod)).safeTransfer(buyback, slashed - reporterShares);
            }
        }
        // Last, because it reports what the bond manager and the pool actually moved.
        emit ReportConfirmed(reportId, nodeKey, account, slashed, reporterShares, slashed - reporterShares, poolReward);
    }

    /// @inheritdoc INodeReports
    function dismissReport(uint256 reportId, bytes32 reason) external onlyRole(CONFIRMER_ROLE) {
        Report storage report = _openReport(reportId);
        (address nodeKey, address account) = (report.nodeKey, report.account);
        report.status = ReportStatus.Dismissed;
        NodeState storage state = _nodes[nodeKey];
        bool lift = _close(nodeKey, report.reporter) < _reportsToSuspend && state.suspendedByReports;
        if (lift) state.suspendedByReports = false;
        emit ReportDismissed(reportId, nodeKey, reason);

        bondManager.unfreeze(account);
        if (lift) {
            // Governance may have lifted the suspension or banned the key in the meantime.
            INodeRegistry.Node memory node = registry.getNode(nodeKey);
            if (node.suspended && node.status != INodeRegistry.NodeStatus.Banned) {
                registry.setNodeSuspended(nodeKey, false, reason);
            }
        }
    }

    /// @inheritdoc INodeReports
    function setReportsToSuspend(uint256 reportsToSuspend_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setReportsToSuspend(reportsToSuspend_);
    }

    /// @inheritdoc INodeReports
    function getReport(uint256 reportId) external view returns (Report memory) {
        return _reports[reportId];
    }

    /// @inheritdoc INodeReports
    function reportCount() external view returns (uint256) {
        return _reportCount;
    }

    /// @inheritdoc INodeReports
    function reportsToSuspend() external view returns (uint256) {
        return _reportsToSuspend;
    }

    /// @inheritdoc INodeReports
    function hasOpenReport(address reporter, address nodeKey) external view returns (bool) {
        return _reporting[nodeKey][reporter];
    }

    /// @inheritdoc INodeReports
    function nodeReportState(address nodeKey) external view returns (uint256 openReports, uint256 flags) {
        NodeState memory state = _nodes[nodeKey];
        return (state.openReports, state.flags);
    }

    function _setReportsToSuspend(uint256 reportsToSuspend_) private {
        if (reportsToSuspend_ == 0 || reportsToSuspend_ > MAX_REPORTS_TO_SUSPEND) {
            revert InvalidReportsToSuspend(reportsToSuspend_);
        }
        uint256 previous = _reportsToSuspend;
        _reportsToSuspend = reportsToSuspend_;
        emit ReportsToSuspendChanged(previous, reportsToSuspend_);
    }

    /// @dev Closes `reporter`'s open report on `nodeKey`; returns how many stay open on it.
    function _close(address nodeKey, address reporter) private returns (uint256 open) {
        delete _reporting[nodeKey][reporter];
        open = --_nodes[nodeKey].openReports;
    }

    function _reportable(address nodeKey) private view returns (INodeRegistry.Node memory node) {
        node = registry.getNode(nodeKey);
        if (node.status == INodeRegistry.NodeStatus.None || node.status == INodeRegistry.NodeStatus.Banned) {
            revert NodeNotReportable(nodeKey);
        }
    }

    function _openReport(uint256 reportId) private view returns (Report storage report) {
        report = _reports[reportId];
        if (report.status != ReportStatus.Open) revert ReportNotOpen(reportId, report.status);
    }
}
