// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IStakedPod} from "../interfaces/IStakedPod.sol";
import {IProtocolParams} from "../interfaces/IProtocolParams.sol";
import {PodToken} from "../token/PodToken.sol";

/// SKELETON: replaced by the full implementation of IBuyback.
contract Buyback is Ownable {
    PodToken public immutable pod;
    IStakedPod public immutable stakedPod;
    IProtocolParams public immutable params;
    address public immutable rewardsPool;

    constructor(PodToken pod_, IStakedPod stakedPod_, IProtocolParams params_, address rewardsPool_, address owner_)
        Ownable(owner_)
    {
        (pod, stakedPod, params, rewardsPool) = (pod_, stakedPod_, params_, rewardsPool_);
    }
}
