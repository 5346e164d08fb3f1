// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {StdUtils} from "forge-std/StdUtils.sol";
import {PodToken} from "../../contracts/token/PodToken.sol";
import {ProtocolParams} from "../../contracts/governance/ProtocolParams.sol";
import {RewardsDistributor} from "../../contracts/settlement/RewardsDistributor.sol";
import {IRewardsDistributor} from "../../contracts/interfaces/IRewardsDistributor.sol";
import {FourLeafTree, RewardsSigner} from "../utils/RewardsKit.sol";

/// @dev Drives the distributor through proposals (honest or over-promising trees), revocations,
/// time, claims (right, wrong and repeated), pool inflows and reporter pay; keeps ghost totals.
contract RewardsHandler is RewardsSigner, StdUtils {
    PodToken public immutable pod;
    ProtocolParams public immutable params;
    RewardsDistributor public immutable rd;
    address[4] public accounts = [address(0xA1), address(0xB2), address(0xC3), address(0xD4)];

    /// Each proposed epoch's cumulatives and signed total (overwritten when re-proposed).
    mapping(uint256 epoch => uint256[4]) internal _cumulatives;
    mapping(uint256 epoch => uint256) public totalOf;

    uint256 public ghostPromised; // totals of unrevoked proposed roots
    uint256 public ghostPaid; // claimed rewards (principal)
    uint256 public ghostBonus;
    uint256 public ghostReporterPaid;
    uint256 public ghostInflow;
    mapping(address => uint256) public ghostPaidTo;
    bool public doubleClaimPaid;
    bool public forgedClaimPaid;
    bool public paidBeyondCumulative;
    /// Some accepted proposal signed less than its leaves promise.
    bool public overPromised;
    /// A proposal, bonus or reporter pay left the pool below what pending roots promise.
    bool public pendingUncovered;

    constructor(PodToken pod_, ProtocolParams params_, RewardsDistributor rd_) {
        (pod, params, rd) = (pod_, params_, rd_);
    }

    function cumulativeOf(uint256 epoch, uint256 i) external view returns (uint256) {
        return _cumulatives[epoch][i];
    }

    /// The totals of the proposed roots not yet claimable, from the records.
    function pendingTotal() public view returns (uint256 pending) {
        for (uint256 e = rd.nextEpoch(); e > 0; --e) {
            IRewardsDistributor.EpochRecord memory r = rd.epochRecord(e - 1);
            if (r.claimableAt <= block.timestamp) break;
            pending += r.total;
        }
    }

    function _checkPendingCovered() internal {
        if (pod.balanceOf(address(rd)) < pendingTotal()) pendingUncovered = true;
    }

    /// Proposes the next epoch: each account gains up to 100k POD; `shortfall` (mostly zero)
    /// makes the oracles sign less than the leaves promise.
    function propose(uint256[4] memory gains, uint256 shortfall) external {
        uint256 epoch = rd.nextEpoch();
        uint256[4] memory cumulatives;
        uint256 total;
        for (uint256 i = 0; i < 4; ++i) {
            uint256 gain = bound(gains[i], 0, 100_000 ether);
            cumulatives[i] = (epoch == 0 ? 0 : _cumulatives[epoch - 1][i]) + gain;
            total += gain;
        }
        shortfall = shortfall % 4 == 0 ? bound(shortfall, 0, total) : 0;
        total -= shortfall;
        try this.proposeAs(epoch, FourLeafTree.root(FourLeafTree.leaves(accounts, cumulatives)), total) {
            _cumulatives[epoch] = cumulatives;
            totalOf[epoch] = total;
            ghostPromised += total;
            if (shortfall != 0) overPromised = true;
            _checkPendingCovered();
        } catch {}
    }

    /// @dev External so that `propose` can try it (the warp to the epoch's close reverts with it).
    function proposeAs(uint256 epoch, bytes32 root, uint256 total) external {
        require(msg.sender == address(this), "self only");
        _proposeTo(rd, params, epoch, root, total);
    }

    function revoke(uint256 seed) external {
        uint256 next = rd.nextEpoch();
        if (next == 0) return;
        uint256 epoch = bound(seed, 0, next - 1);
        try rd.revokeRoot(epoch) {
            for (uint256 e = epoch; e < next; ++e) {
                ghostPromised -= totalOf[e];
            }
        } catch {}
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 0, 3 days));
    }

    /// Claims an account's leaf in the claimable root, then tries the same claim again.
    function claim(uint256 seed, bool bonded) external {
        (bool exists, uint256 epoch,) = rd.claimableEpoch();
        if (!exists) return;
        uint256 i = seed % 4;
        address account = accounts[i];
        uint256 cumulative = _cumulatives[epoch][i];
        bytes32[] memory proof = FourLeafTree.proof(FourLeafTree.leaves(accounts, _cumulatives[epoch]), i);
        uint256 poolBefore = pod.balanceOf(address(rd));
        try rd.claim(account, cumulative, proof, bonded) returns (uint256 amount) {
            ghostPaid += amount;
            ghostPaidTo[account] += amount;
            ghostBonus += poolBefore - pod.balanceOf(address(rd)) - amount;
            if (bonded) _checkPendingCovered();
            if (ghostPaidTo[account] > cumulative) paidBeyondCumulative = true;
            try rd.claim(account, cumulative, proof, bonded) {
                doubleClaimPaid = true;
            } catch {}
        } catch {}
    }

    /// Claims with an amount or an account the leaf does not hold: must never pay.
    function claimForged(uint256 seed, uint256 cumulative, address other) external {
        (bool exists, uint256 epoch,) = rd.claimableEpoch();
        if (!exists) return;
        uint256 i = seed % 4;
        bytes32[] memory proof = FourLeafTree.proof(FourLeafTree.leaves(accounts, _cumulatives[epoch]), i);
        if (cumulative != _cumulatives[epoch][i]) {
            try rd.claim(accounts[i], cumulative, proof, false) {
                forgedClaimPaid = true;
            } catch {}
        }
        if (other != accounts[i]) {
            try rd.claim(other, _cumulatives[epoch][i], proof, false) {
                forgedClaimPaid = true;
            } catch {}
        }
    }

    /// Revenue reaches the pool (the buyback's share).
    function fund(uint256 amount) external {
        amount = bound(amount, 0, pod.balanceOf(address(this)) / 100);
        pod.transfer(address(rd), amount);
        ghostInflow += amount;
    }

    function payReporter(uint256 seed, uint256 amount) external {
        amount = bound(amount, 1, 1_000_000 ether);
        uint256 paid = rd.payReporter(accounts[seed % 4], amount);
        ghostReporterPaid += paid;
        if (paid != 0) _checkPendingCovered();
    }
}
