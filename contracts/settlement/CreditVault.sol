// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IProtocolParams} from "../interfaces/IProtocolParams.sol";

/// SKELETON: replaced by the full implementation of ICreditVault.
contract CreditVault is Ownable, EIP712 {
    IProtocolParams public immutable params;
    address public buyback;

    constructor(IProtocolParams params_, address buyback_, address owner_, address[] memory acceptedAssets)
        Ownable(owner_)
        EIP712("POD CreditVault", "1")
    {
        (params, buyback) = (params_, buyback_);
        acceptedAssets;
    }
}
