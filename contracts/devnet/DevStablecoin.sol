// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title DevStablecoin
/// @notice A 6-decimal dollar token for local networks and tests, standing in for the stablecoin
/// (e.g. USDC) that a public deployment accepts as credit. Its owner mints.
contract DevStablecoin is ERC20, ERC20Permit, Ownable {
    constructor(address owner_) ERC20("Devnet USD", "dUSD") ERC20Permit("Devnet USD") Ownable(owner_) {}

    /// @notice Mints `amount` to `to`. Owner only.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
