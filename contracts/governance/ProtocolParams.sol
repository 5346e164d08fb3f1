// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IProtocolParams} from "../interfaces/IProtocolParams.sol";

/// @title ProtocolParams
/// @notice Holds every governance parameter with its bounds. Owned by the timelock.
contract ProtocolParams is Ownable, IProtocolParams {
    uint256 private constant PPM = 1e6;
    uint256 private constant MAX_POD = 1e27; // 1e9 POD: a bound no real amount reaches
    uint256 private constant HOURS_PER_WEEK = 168;
    uint256 private constant MAX_WEIGHT_PPM = 1e9;

    mapping(bytes32 name => uint256) private _values;
    mapping(bytes32 modelId => ModelParams) private _models;

    /// @param initialOwner The timelock.
    /// @param epochGenesis Timestamp at which settlement epoch 0 starts; 0 means the deployment's.
    /// @param names Parameters that differ from the defaults at deployment (e.g. a devnet's short epochs).
    /// @param values Their values, bound-checked like any later change.
    constructor(address initialOwner, uint256 epochGenesis, bytes32[] memory names, uint256[] memory values)
        Ownable(initialOwner)
    {
        bytes32[] memory all = _names();
        for (uint256 i = 0; i < all.length; ++i) {
            if (all[i] != "epochGenesis") _set(all[i], _default(all[i]));
        }
        _set("epochGenesis", epochGenesis == 0 ? block.timestamp : epochGenesis);
        _setMany(names, values);
    }

    /// @inheritdoc IProtocolParams
    function setParameter(bytes32 name, uint256 value) external onlyOwner {
        _set(name, value);
        _checkCrossRules();
    }

    /// @inheritdoc IProtocolParams
    function setParameters(bytes32[] calldata names, uint256[] calldata values) external onlyOwner {
        _setMany(names, values);
    }

    /// @inheritdoc IProtocolParams
    function setModelParams(bytes32 modelId, ModelParams calldata newParams) external onlyOwner {
        if (newParams.minTokensPerSecond > newParams.maxTokensPerSecond || newParams.workWeightPpm > MAX_WEIGHT_PPM) {
            revert InvalidModelParams(modelId);
        }
        ModelParams memory oldParams = _models[modelId];
        _models[modelId] = newParams;
        emit ModelParamsChanged(modelId, oldParams, newParams);
    }

    /// @inheritdoc IProtocolParams
    function getParameter(bytes32 name) public view returns (uint256) {
        _bounds(name); // reverts on unknown names
        return _values[name];
    }

    /// @inheritdoc IProtocolParams
    function parameterBounds(bytes32 name) external pure returns (uint256 min, uint256 max) {
        return _bounds(name);
    }

    /// @inheritdoc IProtocolParams
    function parameterNames() external pure returns (bytes32[] memory) {
        return _names();
    }

    /// @inheritdoc IProtocolParams
    function boostParams() external view returns (BoostParams memory p) {
        p.epochHours = _values["epochHours"];
        p.lambdaUpPpm = _values["lambdaUpPpm"];
        p.lambdaDownPpm = _values["lambdaDownPpm"];
        p.obsWindowEpochs = _values["obsWindowEpochs"];
        p.minHistoryEpochs = _values["minHistoryEpochs"];
        p.minLifetimeBase = _values["minLifetimeBase"];
        p.earningsFloor = _values["earningsFloor"];
        p.boostCapRhoPpm = _values["boostCapRhoPpm"];
        p.fullWeeks = _values["fullWeeks"];
        p.compWeeks = _values["compWeeks"];
        p.baseBoostMaxPpm = _values["baseBoostMaxPpm"];
        p.compBoostMaxPpm = _values["compBoostMaxPpm"];
        p.maxMultiplierPpm = _values["maxMultiplierPpm"];
        p.percentile = _values["percentile"];
        p.alphaPpm = _values["alphaPpm"];
        p.kappaPpm = _values["kappaPpm"];
        p.kMin = _values["kMin"];
        p.kMax = _values["kMax"];
        p.compMinAccounts = _values["compMinAccounts"];
        p.compMinEarnings = _values["compMinEarnings"];
        p.compMinTotalEarnings = _values["compMinTotalEarnings"];
        p.validatorEnterWeeks = _values["validatorEnterWeeks"];
        p.validatorExitWeeks = _values["validatorExitWeeks"];
        p.validatorMinBond = _values["validatorMinBond"];
    }

    /// @inheritdoc IProtocolParams
    function modelParams(bytes32 modelId) external view returns (ModelParams memory) {
        return _models[modelId];
    }

    /// @inheritdoc IProtocolParams
    function stakeCooldown() external view returns (uint256) {
        return _values["stakeCooldown"];
    }

    /// @inheritdoc IProtocolParams
    function unstakeWindow() external view returns (uint256) {
        return _values["unstakeWindow"];
    }

    /// @inheritdoc IProtocolParams
    function unbondingPeriod() external view returns (uint256) {
        return _values["unbondingPeriod"];
    }

    /// @inheritdoc IProtocolParams
    function epochSchedule() external view returns (uint256 length, uint256 genesis) {
        return (_values["epochLength"], _values["epochGenesis"]);
    }

    /// @inheritdoc IProtocolParams
    function buybackSplit() external view returns (uint256 burnPpm, uint256 stakingPpm, uint256 rewardsPpm) {
        return (_values["buybackBurnPpm"], _values["buybackStakingPpm"], _values["buybackRewardsPpm"]);
    }

    function _setMany(bytes32[] memory names, uint256[] memory values) private {
        if (names.length != values.length) revert LengthMismatch(names.length, values.length);
        for (uint256 i = 0; i < names.length; ++i) {
            _set(names[i], values[i]);
        }
        _checkCrossRules();
    }

    /// @dev The single setter: checks the bounds of one value, stores it, emits.
    function _set(bytes32 name, uint256 value) private {
        (uint256 min, uint256 max) = _bounds(name);
        if (value < min || value > max) revert ParameterOutOfBounds(name, value, min, max);
        if (name == "epochHours" && HOURS_PER_WEEK % value != 0) revert EpochHoursNotDivisorOfWeek(value);
        uint256 oldValue = _values[name];
        _values[name] = value;
        emit ParameterChanged(name, oldValue, value);
    }

    /// @dev Rules between parameters, checked after every change (single or batch).
    function _checkCrossRules() private view {
        _requireBelow("lambdaDownPpm", "lambdaUpPpm", true);
        _requireBelow("kMin", "kMax", false);
        _requireBelow("validatorExitWeeks", "validatorEnterWeeks", false);
        // Usage made just before a withdrawal request must still settle after its epoch closes:
        // a whole epoch for the usage, another for the oracles to settle it.
        uint256 delay = _values["creditWithdrawalDelay"];
        uint256 epochLength = _values["epochLength"];
        if (delay < 2 * epochLength) revert WithdrawalDelayTooShort(delay, epochLength);
        uint256 split = _values["buybackBurnPpm"] + _values["buybackStakingPpm"] + _values["buybackRewardsPpm"];
        if (split != PPM) revert BuybackSplitNotWhole(split);
    }

    function _requireBelow(bytes32 name, bytes32 other, bool strict) private view {
        uint256 value = _values[name];
        uint256 otherValue = _values[other];
        if (strict ? value >= otherValue : value > otherValue) {
            revert ParameterOrderViolated(name, value, other, otherValue, strict);
        }
    }

    function _names() private pure returns (bytes32[] memory n) {
        n = new bytes32[](42);
        (n[0], n[1], n[2], n[3], n[4]) =
            (bytes32("epochHours"), "lambdaUpPpm", "lambdaDownPpm", "obsWindowEpochs", "minHistoryEpochs");
        (n[5], n[6], n[7], n[8], n[9]) =
            (bytes32("minLifetimeBase"), "earningsFloor", "boostCapRhoPpm", "fullWeeks", "compWeeks");
        (n[10], n[11], n[12], n[13], n[14]) =
            (bytes32("baseBoostMaxPpm"), "compBoostMaxPpm", "maxMultiplierPpm", "percentile", "alphaPpm");
        (n[15], n[16], n[17], n[18], n[19]) =
            (bytes32("kappaPpm"), "kMin", "kMax", "compMinAccounts", "compMinEarnings");
        (n[20], n[21], n[22], n[23], n[24]) = (
            bytes32("compMinTotalEarnings"),
            "validatorEnterWeeks",
            "validatorExitWeeks",
            "validatorMinBond",
            "epochLength"
        );
        (n[25], n[26], n[27], n[28], n[29]) =
            (bytes32("epochGenesis"), "stakeCooldown", "unstakeWindow", "unbondingPeriod", "bondedClaimBonusPpm");
        (n[30], n[31], n[32], n[33], n[34]) = (
            bytes32("maxSlashPpm"),
            "slashReporterSharePpm",
            "epochEmissionBudget",
            "samplingRatePpm",
            "rootChallengeWindow"
        );
        (n[35], n[36], n[37], n[38], n[39]) = (
            bytes32("buybackBurnPpm"),
            "buybackStakingPpm",
            "buybackRewardsPpm",
            "buybackMaxSlippagePpm",
            "buybackTwapPeriod"
        );
        (n[40], n[41]) = (bytes32("creditWithdrawalDelay"), "unbondedReporterReward");
    }

    /// @dev Launch values: the reward engine's defaults (rewards.md) and the whitepaper's
    /// 3-month cooldowns.
    function _default(bytes32 name) private pure returns (uint256) {
        if (name == "epochHours") return 24;
        if (name == "lambdaUpPpm") return 500_000;
        if (name == "lambdaDownPpm") return 100_000;
        if (name == "obsWindowEpochs" || name == "minHistoryEpochs") return 7;
        if (name == "minLifetimeBase") return 50e18;
        if (name == "earningsFloor") return 1e18;
        if (name == "boostCapRhoPpm") return 3_000_000;
        if (name == "fullWeeks" || name == "compWeeks" || name == "validatorEnterWeeks") return 13;
        if (name == "baseBoostMaxPpm") return 200_000;
        if (name == "compBoostMaxPpm") return 100_000;
        if (name == "maxMultiplierPpm") return 1_300_000;
        if (name == "percentile") return 95;
        if (name == "alphaPpm") return 750_000;
        if (name == "kappaPpm") return 1_000_000;
        if (name == "kMin") return 2;
        if (name == "kMax") return 11;
        if (name == "compMinAccounts" || name == "validatorExitWeeks") return 10;
        if (name == "validatorMinBond") return 100_000e18;
        if (name == "epochLength") return 1 days;
        if (name == "stakeCooldown" || name == "unbondingPeriod") return 90 days;
        if (name == "unstakeWindow") return 7 days;
        if (name == "bondedClaimBonusPpm") return 50_000;
        if (name == "maxSlashPpm") return 500_000;
        if (name == "slashReporterSharePpm") return 100_000;
        if (name == "epochEmissionBudget") return 1_000_000e18;
        if (name == "samplingRatePpm") return 10_000;
        if (name == "rootChallengeWindow") return 1 days;
        if (name == "buybackBurnPpm") return 500_000;
        if (name == "buybackStakingPpm") return 300_000;
        if (name == "buybackRewardsPpm") return 200_000;
        if (name == "buybackMaxSlippagePpm") return 20_000;
        if (name == "buybackTwapPeriod") return 30 minutes;
        if (name == "creditWithdrawalDelay") return 3 days;
        if (name == "unbondedReporterReward") return 1_000e18;
        return 0; // compMinEarnings, compMinTotalEarnings
    }

    /// @dev Inclusive bounds per parameter; the single place that knows which names exist.
    function _bounds(bytes32 name) private pure returns (uint256 min, uint256 max) {
        if (name == "epochHours") return (1, HOURS_PER_WEEK);
        if (name == "lambdaUpPpm" || name == "lambdaDownPpm") return (1, PPM);
        if (name == "obsWindowEpochs") return (1, 1000);
        if (name == "minHistoryEpochs") return (0, 1000);
        if (name == "minLifetimeBase" || name == "compMinEarnings" || name == "validatorMinBond") return (0, MAX_POD);
        if (name == "earningsFloor") return (1, MAX_POD);
        if (name == "boostCapRhoPpm") return (0, 100 * PPM);
        if (name == "fullWeeks" || name == "compWeeks") return (1, 520);
        if (name == "baseBoostMaxPpm" || name == "compBoostMaxPpm") return (0, PPM);
        if (name == "maxMultiplierPpm") return (PPM, 1_300_000);
        if (name == "percentile") return (1, 100);
        if (name == "alphaPpm") return (1, PPM);
        if (name == "kappaPpm") return (0, 100 * PPM);
        if (name == "kMin" || name == "kMax") return (2, 1000);
        if (name == "compMinAccounts") return (1, 1_000_000);
        if (name == "compMinTotalEarnings") return (0, 1000 * MAX_POD);
        if (name == "validatorEnterWeeks" || name == "validatorExitWeeks") return (0, 520);
        if (name == "epochLength") return (10, 30 days);
        if (name == "epochGenesis") return (0, type(uint64).max);
        if (name == "stakeCooldown" || name == "unbondingPeriod") return (0, 365 days);
        if (name == "unstakeWindow") return (1 minutes, 30 days);
        if (name == "bondedClaimBonusPpm") return (0, PPM / 2);
        if (name == "maxSlashPpm") return (1, PPM);
        if (name == "slashReporterSharePpm" || name == "samplingRatePpm") return (0, PPM);
        if (name == "epochEmissionBudget") return (0, MAX_POD);
        if (name == "rootChallengeWindow") return (0, 30 days);
        if (name == "buybackBurnPpm" || name == "buybackStakingPpm" || name == "buybackRewardsPpm") return (0, PPM);
        // Below the pair's 0.3% fee plus some price impact no sale could pass the bound.
        if (name == "buybackMaxSlippagePpm") return (5_000, PPM / 2);
        // A window of seconds is close to the spot price a sandwich moves.
        if (name == "buybackTwapPeriod") return (1 minutes, 7 days);
        if (name == "creditWithdrawalDelay") return (0, 90 days);
        if (name == "unbondedReporterReward") return (0, MAX_POD);
        revert UnknownParameter(name);
    }
}
