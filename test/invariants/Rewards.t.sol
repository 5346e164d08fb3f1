// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {PodTest} from "../utils/PodTest.sol";
import {RewardsKit} from "../utils/RewardsKit.sol";
import {RewardsHandler} from "./RewardsHandler.sol";

/// @dev Money invariants of the rewards pool under random proposals, revocations, claims,
/// inflows and reporter pay. Claims are not summed on-chain, so the pool reserves only for the
/// roots not yet claimable (see IRewardsDistributor): that is what is checked, not full cover.
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

    /// No account is paid beyond the totals of the roots up to the claimable one; with honest
    /// trees (signed totals that cover their leaves), claims stay within those totals.
    function invariant_paidWithinTheSignedTotals() public view {
        (bool exists, uint256 epoch,) = rd.claimableEpoch();
        uint256 accepted;
        for (uint256 e = 0; exists && e <= epoch; ++e) {
            accepted += handler.totalOf(e);
        }
        for (uint256 i = 0; i < 4; ++i) {
            assertLe(rd.claimed(handler.accounts(i)), accepted);
        }
        if (!handler.overPromised()) assertLe(handler.ghostPaid(), accepted);
    }

    /// The surplus is what the pool holds beyond the pending roots; proposals, bonuses and
    /// reporter pay never leave the pool below what those promise.
    function invariant_pendingRootsCovered() public view {
        uint256 pending = handler.pendingTotal();
        uint256 balance = pod.balanceOf(address(rd));
        assertEq(rd.poolSurplus(), balance > pending ? balance - pending : 0);
        assertFalse(handler.pendingUncovered());
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
