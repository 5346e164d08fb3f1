// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

/// @title IProtocolParams
/// @notice Every governance parameter of POD Network, with bounds enforced on-chain.
/// @dev Parameters are addressed by name: the ASCII name left-aligned in a bytes32
/// (`bytes32("lambdaUpPpm")`), the same names as the reward engine's specification.
/// Only the owner (the timelock) changes them; every change emits {ParameterChanged}.
interface IProtocolParams {
    /// @notice The reward engine's parameter set, read in one call at each epoch's close.
    /// @dev Field meanings and units are those of the reward engine specification (rewards.md).
    struct BoostParams {
        uint256 epochHours;
        uint256 lambdaUpPpm;
        uint256 lambdaDownPpm;
        uint256 obsWindowEpochs;
        uint256 minHistoryEpochs;
        uint256 minLifetimeBase;
        uint256 earningsFloor;
        uint256 boostCapRhoPpm;
        uint256 fullWeeks;
        uint256 compWeeks;
        uint256 baseBoostMaxPpm;
        uint256 compBoostMaxPpm;
        uint256 maxMultiplierPpm;
        uint256 percentile;
        uint256 alphaPpm;
        uint256 kappaPpm;
        uint256 kMin;
        uint256 kMax;
        uint256 compMinAccounts;
        uint256 compMinEarnings;
        uint256 compMinTotalEarnings;
        uint256 validatorEnterWeeks;
        uint256 validatorExitWeeks;
        uint256 validatorMinBond;
    }

    /// @notice Governed settings of one model that the network serves.
    /// @param enabled Whether gateways may route and bill this model.
    /// @param workWeightPpm Work per token relative to the reference model (1e6 = 1x), for reward splits.
    /// @param minTokensPerSecond Slowest generation speed validators accept.
    /// @param maxTokensPerSecond Fastest generation speed validators accept.
    /// @param inputPricePerMTok Price of one million prompt tokens, in POD wei.
    /// @param outputPricePerMTok Price of one million completion tokens, in POD wei.
    struct ModelParams {
        bool enabled;
        uint32 workWeightPpm;
        uint32 minTokensPerSecond;
        uint32 maxTokensPerSecond;
        uint128 inputPricePerMTok;
        uint128 outputPricePerMTok;
    }

    /// @notice Thrown when a name is not one of the governed parameters.
    error UnknownParameter(bytes32 name);
    /// @notice Thrown when a value lies outside its parameter's bounds (inclusive).
    error ParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
    /// @notice Thrown when `name` must stay strictly below (`strict`) or at most `other`.
    error ParameterOrderViolated(bytes32 name, uint256 value, bytes32 other, uint256 otherValue, bool strict);
    /// @notice Thrown when epochHours does not divide the 168 hours of a week.
    error EpochHoursNotDivisorOfWeek(uint256 value);
    /// @notice Thrown when a batch's names and values differ in length.
    error LengthMismatch(uint256 names, uint256 values);
    /// @notice Thrown when a model's speed bounds are inverted or its weight is out of range.
    error InvalidModelParams(bytes32 modelId);
    /// @notice Thrown when the buyback's burn, staking and rewards shares do not add up to 1e6 ppm.
    error BuybackSplitNotWhole(uint256 sumPpm);
    /// @notice Thrown when the credit withdrawal delay is shorter than two epochs (one to serve
    /// usage, one to settle it).
    error WithdrawalDelayTooShort(uint256 delay, uint256 epochLength);

    /// @notice Emitted for every parameter change, including the initial values at deployment.
    event ParameterChanged(bytes32 indexed name, uint256 oldValue, uint256 newValue);
    /// @notice Emitted when a model's settings change.
    event ModelParamsChanged(bytes32 indexed modelId, ModelParams oldParams, ModelParams newParams);

    /// @notice Sets one parameter. Owner (timelock) only.
    function setParameter(bytes32 name, uint256 value) external;

    /// @notice Sets several parameters, then checks the cross-parameter rules once, so that
    /// related values (e.g. both smoothing gains) can move together. Owner (timelock) only.
    function setParameters(bytes32[] calldata names, uint256[] calldata values) external;

    /// @notice Sets the settings of a model. Owner (timelock) only.
    function setModelParams(bytes32 modelId, ModelParams calldata newParams) external;

    /// @notice The current value of a parameter; reverts with {UnknownParameter} for unknown names.
    function getParameter(bytes32 name) external view returns (uint256);

    /// @notice The inclusive bounds of a parameter.
    function parameterBounds(bytes32 name) external pure returns (uint256 min, uint256 max);

    /// @notice The names of every governed parameter, in a stable order.
    function parameterNames() external pure returns (bytes32[] memory);

    /// @notice The reward engine's whole parameter set.
    function boostParams() external view returns (BoostParams memory);

    /// @notice The settings of a model (all zero when never configured).
    function modelParams(bytes32 modelId) external view returns (ModelParams memory);

    /// @notice Seconds a staker waits after `cooldown` before the unstake window opens.
    function stakeCooldown() external view returns (uint256);

    /// @notice Seconds the unstake window stays open.
    function unstakeWindow() external view returns (uint256);

    /// @notice Seconds between an unbond request and its withdrawal.
    function unbondingPeriod() external view returns (uint256);

    /// @notice Settlement epoch length in seconds and the timestamp of epoch 0's start.
    function epochSchedule() external view returns (uint256 length, uint256 genesis);

    /// @notice How bought-back POD is split: burned, sent to the staking vault, sent to the node
    /// rewards pool (ppm, summing to 1e6).
    function buybackSplit() external view returns (uint256 burnPpm, uint256 stakingPpm, uint256 rewardsPpm);
}
