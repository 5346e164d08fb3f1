// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {PodTest} from "../utils/PodTest.sol";
import {RewardsKit} from "../utils/RewardsKit.sol";
import {RewardsHandler} from "./RewardsHandler.sol";

/// @dev Money invariants of the rewards pool under random proposals, revocations, claims,
/// inflows and reporter pay.
contract RewardsInvariants is PodTest, RewardsKit {
    RewardsHandler internal handler;

    function setUp() public {
        _deployRewards();
        handler = new RewardsHandler(pod, params, rd);
        rd.grantRole(rd.GUARDIAN_ROLE(), address(handler));
        rd.grantRole(rd.POOL_SPENDER_ROLE(), address(handler));
        pod.transfer(address(handler), 10_000_000 ether);
        bytes4[] memory actions = new bytes4[](7);
        actions[0] = RewardsHandler.propose.selector;
        actions[1] = RewardsHandler.revoke.selector;
        actions[2] = RewardsHandler.warp.selector;
        actions[3] = RewardsHandler.claim.selector;
        actions[4] = RewardsHandler.claimForged.selector;
        actions[5] = RewardsHandler.fund.selector;
        actions[6] = RewardsHandler.payReporter.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: actions}));
        targetContract(address(handler));
    }

    /// No account is ever paid more than its cumulative in the latest claimable root.
    function invariant_noAccountPaidBeyondItsCumulative() public view {
        assertFalse(handler.paidBeyondCumulative());
        (bool exists, uint256 epoch,) = rd.claimableEpoch();
        for (uint256 i = 0; i < 4; ++i) {
            address account = handler.accounts(i);
            assertEq(rd.claimed(account), handler.ghostPaidTo(account));
            assertLe(rd.claimed(account), exists ? handler.cumulativeOf(epoch, i) : 0);
        }
    }

    /// Claims never exceed the totals of the claimable roots, nor the totals promised.
    function invariant_paidWithinPromised() public view {
        (bool exists, uint256 epoch,) = rd.claimableEpoch();
        uint256 accepted;
        for (uint256 e = 0; exists && e <= epoch; ++e) {
            accepted += handler.totalOf(e);
        }
        assertLe(handler.ghostPaid(), accepted);
        assertLe(handler.ghostPaid(), handler.ghostPromised());
    }

    /// The pool always holds every unpaid promise; the surplus is exactly the rest.
    function invariant_poolCoversPromises() public view {
        uint256 owed = handler.ghostPromised() - handler.ghostPaid();
        uint256 balance = pod.balanceOf(address(rd));
        assertGe(balance, owed);
        assertEq(rd.poolSurplus(), balance - owed);
    }

    /// POD only leaves the pool as claims, bonuses and reporter pay.
    function invariant_poolConserves() public view {
        assertEq(
            pod.balanceOf(address(rd)),
            POOL + handler.ghostInflow() - handler.ghostPaid() - handler.ghostBonus() - handler.ghostReporterPaid()
        );
    }

    /// No claim pays twice, and no proof pays an amount or an account it was not built for.
    function invariant_noDoubleOrForgedClaim() public view {
        assertFalse(handler.doubleClaimPaid());
        assertFalse(handler.forgedClaimPaid());
    }
}
