// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title PodTimelock
/// @notice The timelock that owns every governed contract; the governor proposes and cancels,
/// anyone executes once the delay has passed.
contract PodTimelock is TimelockController {
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
