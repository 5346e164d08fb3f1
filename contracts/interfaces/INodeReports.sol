// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

/// @title INodeReports
/// @notice Validator reports and slashing. A validator-eligible account (listed in the latest
/// claimable epoch's validator root) reports a node with an evidence hash; a validator has at most
/// one open report per node. The node is suspended once `reportsToSuspend` validators have open
/// reports on it, so no single validator can take nodes out of service. Every open report freezes
/// the node's account on the bond manager: it withdraws nothing until the report is closed, so a
/// pending unbond cannot escape the slash. Users flag nodes for validators to look at. A
/// confirmation (governance or the timelocked security role) slashes the node's account (active
/// bond first, then pending unbonds, at most the governed share of its slashable bond), pays the
/// reporter in bonded sPOD from the slash (from the node rewards pool when the account had no
/// bond), sends the rest to the buyback to be burned, and bans the node. A report can be dismissed
/// instead; a banned node's remaining reports can only be dismissed (one incident, one slash).
interface INodeReports {
    enum ReportStatus {
        None,
        Open,
        Confirmed,
        Dismissed
    }

    /// @notice A validator's report (ordered to fill four storage slots).
    /// @param nodeKey The reported node key.
    /// @param openedAt When it was filed.
    /// @param status Its status.
    /// @param account The node's account when it was filed: the account a confirmation slashes.
    /// @param reporter The validator who filed it.
    /// @param evidenceHash The hash of the evidence; the reason of the suspension, slash and ban.
    struct Report {
        address nodeKey;
        uint64 openedAt;
        ReportStatus status;
        address account;
        address reporter;
        bytes32 evidenceHash;
    }

    /// @notice Thrown when the reporter is not validator-eligible in the latest claimable epoch.
    error NotValidator(address reporter);
    /// @notice Thrown when a validator reports a node of its own account.
    error SelfReport(address reporter, address nodeKey);
    /// @notice Thrown when the node is unknown or already banned.
    error NodeNotReportable(address nodeKey);
    /// @notice Thrown when the evidence (or flag reason) hash is zero.
    error EmptyEvidence();
    /// @notice Thrown when a report is not open.
    error ReportNotOpen(uint256 reportId, ReportStatus status);
    /// @notice Thrown when a confirmation asks to slash more than the governed share.
    error SlashAboveCap(uint256 slashPpm, uint256 maxSlashPpm);
    /// @notice Thrown when `reporter` already has an open report on `nodeKey`.
    error DuplicateReport(address reporter, address nodeKey);
    /// @notice Thrown when confirming a report on a node that is banned already: dismiss it instead.
    error NodeAlreadyBanned(address nodeKey);
    /// @notice Thrown when `reportsToSuspend` is set outside 1..MAX_REPORTS_TO_SUSPEND.
    error InvalidReportsToSuspend(uint256 reportsToSuspend);

    /// @notice Emitted when a validator reports a node; the node's account is frozen while it is
    /// open, and the node is suspended once `reportsToSuspend` reports on it are open.
    event NodeReported(
        uint256 indexed reportId,
        address indexed nodeKey,
        address indexed reporter,
        address account,
        bytes32 evidenceHash
    );
    /// @notice Emitted when a user flags a node for validators to review.
    event NodeFlagged(address indexed nodeKey, address indexed flagger, bytes32 reasonHash);
    /// @notice Emitted when a report is confirmed: `slashedShares` taken from the account,
    /// `reporterShares` bonded to the reporter from them, `burnShares` sent to the buyback's burn,
    /// `reporterPoolReward` POD bonded to the reporter from the pool when there was no bond.
    event ReportConfirmed(
        uint256 indexed reportId,
        address indexed nodeKey,
        address indexed account,
        uint256 slashedShares,
        uint256 reporterShares,
        uint256 burnShares,
        uint256 reporterPoolReward
    );
    /// @notice Emitted when a report is dismissed; the reports' suspension of the node is lifted
    /// once fewer than `reportsToSuspend` reports on it stay open.
    event ReportDismissed(uint256 indexed reportId, address indexed nodeKey, bytes32 reason);
    /// @notice Emitted when the number of open reports that suspends a node changes.
    event ReportsToSuspendChanged(uint256 previous, uint256 reportsToSuspend);

    /// @notice Reports `nodeKey` (known, not banned, not the caller's) with `evidenceHash`;
    /// `validatorProof` proves the caller is in the latest claimable epoch's validator root. One
    /// open report per validator and node (DuplicateReport). Freezes the node's account; suspends
    /// the node when this is its `reportsToSuspend`-th open report and it is not suspended yet.
    function reportNode(address nodeKey, bytes32 evidenceHash, bytes32[] calldata validatorProof)
        external
        returns (uint256 reportId);

    /// @notice Flags `nodeKey` (known, not banned) for review by validators. Anyone may call; a
    /// flag is a signal only and suspends nothing.
    function flagNode(address nodeKey, bytes32 reasonHash) external;

    /// @notice Confirms report `reportId`, bans the node, lifts the report's freeze and slashes
    /// `slashPpm` of the reported account's slashable bond (at most maxSlashPpm). Refused when the
    /// node is banned already (NodeAlreadyBanned): its other open reports can only be dismissed.
    /// CONFIRMER_ROLE only (the timelocks).
    function confirmReport(uint256 reportId, uint256 slashPpm) external;

    /// @notice Dismisses report `reportId` and lifts its freeze on the account. When fewer than
    /// `reportsToSuspend` reports on the node stay open, the suspension the reports put on it is
    /// lifted (one set by governance stays). CONFIRMER_ROLE only.
    function dismissReport(uint256 reportId, bytes32 reason) external;

    /// @notice Sets how many open reports, from distinct validators, suspend a node (1 to
    /// MAX_REPORTS_TO_SUSPEND). Applies from the next report or dismissal on each node.
    /// DEFAULT_ADMIN_ROLE only (governance).
    function setReportsToSuspend(uint256 reportsToSuspend) external;

    /// @notice How many open reports from distinct validators suspend a node.
    function reportsToSuspend() external view returns (uint256);

    /// @notice Whether `reporter` has an open report on `nodeKey`.
    function hasOpenReport(address reporter, address nodeKey) external view returns (bool);

    /// @notice The report `reportId`.
    function getReport(uint256 reportId) external view returns (Report memory);

    /// @notice How many reports exist (ids run from 1).
    function reportCount() external view returns (uint256);

    /// @notice Open reports against `nodeKey` and the flags users raised on it.
    function nodeReportState(address nodeKey) external view returns (uint256 openReports, uint256 flags);
}
