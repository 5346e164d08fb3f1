// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IStakedPod} from "../interfaces/IStakedPod.sol";
import {IBondManager} from "../interfaces/IBondManager.sol";
import {IProtocolParams} from "../interfaces/IProtocolParams.sol";

/// SKELETON: replaced by the full implementation of IRewardsDistributor.
contract RewardsDistributor is AccessControl, EIP712 {
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant POOL_SPENDER_ROLE = keccak256("POOL_SPENDER_ROLE");

    IERC20 public immutable pod;
    IStakedPod public immutable stakedPod;
    IBondManager public immutable bondManager;
    IProtocolParams public immutable params;

    constructor(
        IERC20 pod_,
        IStakedPod stakedPod_,
        IBondManager bondManager_,
        IProtocolParams params_,
        address admin,
        address[] memory oracles_,
        uint256 quorum_
    ) EIP712("POD RewardsDistributor", "1") {
        (pod, stakedPod, bondManager, params) = (pod_, stakedPod_, bondManager_, params_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        oracles_;
        quorum_;
    }
}
