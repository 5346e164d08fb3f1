// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {INodeRegistry} from "../interfaces/INodeRegistry.sol";
import {IBondManager} from "../interfaces/IBondManager.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {IStakedPod} from "../interfaces/IStakedPod.sol";
import {IProtocolParams} from "../interfaces/IProtocolParams.sol";

/// SKELETON: replaced by the full implementation of INodeReports.
contract NodeReports is AccessControl {
    bytes32 public constant CONFIRMER_ROLE = keccak256("CONFIRMER_ROLE");

    INodeRegistry public immutable registry;
    IBondManager public immutable bondManager;
    IRewardsDistributor public immutable distributor;
    IStakedPod public immutable stakedPod;
    IProtocolParams public immutable params;
    address public immutable buyback;

    constructor(
        INodeRegistry registry_,
        IBondManager bondManager_,
        IRewardsDistributor distributor_,
        IStakedPod stakedPod_,
        IProtocolParams params_,
        address buyback_,
        address admin
    ) {
        (registry, bondManager, distributor, stakedPod, params, buyback) =
            (registry_, bondManager_, distributor_, stakedPod_, params_, buyback_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }
}
