// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// SKELETON: replaced by the full implementation of INodeRegistry.
contract NodeRegistry is AccessControl, EIP712 {
    bytes32 public constant SUSPENDER_ROLE = keccak256("SUSPENDER_ROLE");
    bytes32 public constant BANNER_ROLE = keccak256("BANNER_ROLE");

    constructor(address admin) EIP712("POD NodeRegistry", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }
}
