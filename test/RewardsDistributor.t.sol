// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {PodTest} from "./utils/PodTest.sol";
import {FourLeafTree, RewardsKit} from "./utils/RewardsKit.sol";
import {IRewardsDistributor} from "../contracts/interfaces/IRewardsDistributor.sol";

/// @dev Fuzz tests of the distributor's money paths: cumulative claims, the leaf cap, bonuses.
contract RewardsDistributorFuzzTest is PodTest, RewardsKit {
    address[4] internal accounts = [address(0xA1), address(0xB2), address(0xC3), address(0xD4)];

    function setUp() public {
        _deployRewards();
    }

    function _accept(uint256 epoch, uint256[4] memory cumulatives, uint256 total) internal returns (bytes32[4] memory l) {
        l = FourLeafTree.leaves(accounts, cumulatives);
        _propose(epoch, FourLeafTree.root(l), total);
        vm.warp(rd.epochRecord(epoch).claimableAt);
    }

    function _sum(uint256[4] memory values) internal pure returns (uint256 s) {
        for (uint256 i = 0; i < 4; ++i) {
            s += values[i];
        }
    }

    /// Over two epochs, whatever each account claims and when, it ends with exactly its latest
    /// cumulative, and the pool with its funding minus the roots' totals.
    function testFuzz_claimsPayExactlyTheLatestCumulative(uint256[4] memory first, uint256[4] memory added, uint8 claimMask)
        public
    {
        uint256[4] memory second;
        for (uint256 i = 0; i < 4; ++i) {
            first[i] = bound(first[i], 0, 200_000 ether);
            second[i] = first[i] + bound(added[i], 0, 200_000 ether);
        }
        bytes32[4] memory l0 = _accept(0, first, _sum(first));
        for (uint256 i = 0; i < 4; ++i) {
            if (claimMask & (1 << i) != 0 && first[i] != 0) rd.claim(accounts[i], first[i], FourLeafTree.proof(l0, i), false);
        }
        bytes32[4] memory l1 = _accept(1, second, _sum(second) - _sum(first));
        for (uint256 i = 0; i < 4; ++i) {
            if (second[i] > rd.claimed(accounts[i])) rd.claim(accounts[i], second[i], FourLeafTree.proof(l1, i), false);
            assertEq(pod.balanceOf(accounts[i]), second[i]);
            assertEq(rd.claimed(accounts[i]), second[i]);
            if (second[i] == 0) continue;
            vm.expectRevert(
                abi.encodeWithSelector(IRewardsDistributor.NothingToClaim.selector, accounts[i], second[i], second[i])
            );
            rd.claim(accounts[i], second[i], FourLeafTree.proof(l1, i), false);
        }
        assertEq(pod.balanceOf(address(rd)), POOL - _sum(second));
        assertEq(rd.poolSurplus(), POOL - _sum(second));
    }

    /// No amount but the leaf's own verifies, for the account or anyone else.
    function testFuzz_onlyTheLeafVerifies(uint256[4] memory cumulatives, uint256 claimedAs, uint8 index, address other)
        public
    {
        for (uint256 k = 0; k < 4; ++k) {
            cumulatives[k] = bound(cumulatives[k], 1, 200_000 ether);
        }
        uint256 i = index % 4;
        bytes32[4] memory l = _accept(0, cumulatives, _sum(cumulatives));
        bytes32[] memory proof = FourLeafTree.proof(l, i);
        vm.assume(claimedAs != cumulatives[i]);
        vm.expectRevert(abi.encodeWithSelector(IRewardsDistributor.InvalidProof.selector, accounts[i], claimedAs, 0));
        rd.claim(accounts[i], claimedAs, proof, false);
        vm.assume(other != accounts[i]);
        vm.expectRevert(abi.encodeWithSelector(IRewardsDistributor.InvalidProof.selector, other, cumulatives[i], 0));
        rd.claim(other, cumulatives[i], proof, true);
    }

    /// No leaf above the signed totals pays: each claim either pays its whole leaf or is refused
    /// for exceeding them, whatever the order.
    function testFuzz_noLeafPaysBeyondTheSignedTotals(uint256[4] memory cumulatives, uint256 total, uint8 order) public {
        for (uint256 i = 0; i < 4; ++i) {
            cumulatives[i] = bound(cumulatives[i], 1, 250_000 ether);
        }
        total = bound(total, 0, _sum(cumulatives));
        bytes32[4] memory l = _accept(0, cumulatives, total);
        uint256 paid;
        for (uint256 k = 0; k < 4; ++k) {
            uint256 i = (k + order) % 4;
            if (cumulatives[i] > total) {
                vm.expectRevert(
                    abi.encodeWithSelector(IRewardsDistributor.ClaimExceedsRootTotals.selector, cumulatives[i], total)
                );
            }
            rd.claim(accounts[i], cumulatives[i], FourLeafTree.proof(l, i), false);
            if (cumulatives[i] <= total) paid += cumulatives[i];
            assertEq(rd.claimed(accounts[i]), cumulatives[i] <= total ? cumulatives[i] : 0);
        }
        assertEq(pod.balanceOf(address(rd)), POOL - paid);
    }

    /// A bonded claim bonds exactly the reward plus the governed bonus, and leaves the promises covered.
    function testFuzz_bondedClaimBondsRewardAndBonus(uint256[4] memory cumulatives, uint256 bonusPpm) public {
        for (uint256 i = 0; i < 4; ++i) {
            cumulatives[i] = bound(cumulatives[i], 1 ether, 250_000 ether);
        }
        bonusPpm = bound(bonusPpm, 0, 500_000);
        params.setParameter("bondedClaimBonusPpm", bonusPpm);
        bytes32[4] memory l = _accept(0, cumulatives, _sum(cumulatives));
        uint256 bonus = cumulatives[1] * bonusPpm / 1_000_000;
        uint256 shares = vault.previewDeposit(cumulatives[1] + bonus);
        rd.claim(accounts[1], cumulatives[1], FourLeafTree.proof(l, 1), true);
        assertEq(bonds.bondedShares(accounts[1]), shares);
        assertEq(pod.balanceOf(accounts[1]), 0);
        assertEq(pod.balanceOf(address(rd)), POOL - cumulatives[1] - bonus);
        // Nothing is pending, so the surplus is the balance: claimable rewards are not reserved.
        assertEq(rd.poolSurplus(), POOL - cumulatives[1] - bonus);
    }
}
