// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

/// @title RecentVotes
/// @notice Votes whose past lookups try the latest checkpoint first. A vote is usually cast
/// after the voter's last balance change, so this answers with two storage reads instead of a
/// binary search, which keeps `castVote` cheap although it reads two tokens.
abstract contract RecentVotes is Votes {
    function getPastVotes(address account, uint256 timepoint) public view virtual override returns (uint256) {
        uint48 key = _validateTimepoint(timepoint);
        uint32 count = _numCheckpoints(account);
        if (count == 0) return 0;
        Checkpoints.Checkpoint208 memory latest = _checkpoints(account, count - 1);
        if (latest._key <= key) return latest._value;
        return super.getPastVotes(account, timepoint);
    }
}
