// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {RecentVotes} from "../governance/RecentVotes.sol";

/// @title PodToken (POD)
/// @notice The network's token: fixed supply minted once at deployment, burnable, with
/// EIP-2612 permits and votes on a timestamp clock (EIP-6372).
contract PodToken is ERC20, ERC20Burnable, ERC20Permit, ERC20Votes, RecentVotes {
    /// @param recipient Receives the whole supply.
    /// @param supply The fixed supply, in wei.
    constructor(address recipient, uint256 supply) ERC20("POD", "POD") ERC20Permit("POD") {
        _mint(recipient, supply);
    }

    /// @notice Votes are checkpointed by timestamp, so epochs and proposals share one clock.
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice EIP-6372 clock description.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    function getPastVotes(address account, uint256 timepoint)
        public
        view
        override(Votes, RecentVotes)
        returns (uint256)
    {
        return super.getPastVotes(account, timepoint);
    }

    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }
}
