// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {PodTest} from "../utils/PodTest.sol";
import {PodToken} from "../../contracts/token/PodToken.sol";
import {DevStablecoin} from "../../contracts/devnet/DevStablecoin.sol";
import {CreditVault} from "../../contracts/settlement/CreditVault.sol";
import {ProtocolParams} from "../../contracts/governance/ProtocolParams.sol";
import {ICreditVault} from "../../contracts/interfaces/ICreditVault.sol";
import {IProtocolParams} from "../../contracts/interfaces/IProtocolParams.sol";
import {CreditHandler} from "./CreditHandler.sol";

/// @dev Money invariants of the credit vault under random deposits, settlements, revocations,
/// withdrawals and time, in POD and a 6-decimal stablecoin.
contract CreditInvariants is PodTest {
    address internal constant BUYBACK = address(0xB0B);
    CreditVault internal vault;
    CreditHandler internal handler;
    address[] internal assets;

    function setUp() public {
        ProtocolParams params = new ProtocolParams(address(this), 0, new bytes32[](0), new uint256[](0));
        PodToken pod = new PodToken(address(this), 1e9 ether);
        DevStablecoin usd = new DevStablecoin(address(this));
        (assets.push(), assets.push()) = (address(usd), address(pod));
        vault = new CreditVault(IProtocolParams(address(params)), BUYBACK, address(this), assets);
        uint256[] memory keys = new uint256[](4);
        for (uint256 i = 0; i < keys.length; ++i) {
            keys[i] = 0xC0FFEE + i;
            address a = vm.addr(keys[i]);
            usd.mint(a, 1e6 * 1e6);
            pod.transfer(a, 1e6 ether);
            vm.startPrank(a);
            usd.approve(address(vault), type(uint256).max);
            pod.approve(address(vault), type(uint256).max);
            vm.stopPrank();
        }
        handler = new CreditHandler(vault, assets, keys);
        targetContract(address(handler));
    }

    /// Per asset: credit balances + settled revenue + withdrawals == deposits, and the vault
    /// holds exactly the credit balances.
    function invariant_creditConserved() public view {
        for (uint256 j = 0; j < assets.length; ++j) {
            address asset = assets[j];
            uint256 credit;
            for (uint256 i = 0; i < handler.actorCount(); ++i) {
                credit += vault.creditOf(handler.actors(i), asset);
            }
            uint256 revenue = IERC20(asset).balanceOf(BUYBACK);
            assertEq(credit + revenue + handler.ghostWithdrawn(asset), handler.ghostDeposited(asset));
            assertEq(IERC20(asset).balanceOf(address(vault)), credit);
        }
    }

    /// Cumulative spend under a grant never exceeds its cap.
    function invariant_spendWithinCap() public view {
        for (uint256 k = 0; k < handler.grantCount(); ++k) {
            ICreditVault.SpendGrant memory g = handler.grantAt(k);
            assertLe(vault.spentOf(vault.grantId(g)), g.cap);
        }
    }

    /// Two grants of one account sharing a nonce are never both spent.
    function invariant_oneGrantPerNonce() public view {
        uint256 n = handler.grantCount();
        for (uint256 k = 0; k < n; ++k) {
            ICreditVault.SpendGrant memory g = handler.grantAt(k);
            for (uint256 l = k + 1; l < n; ++l) {
                ICreditVault.SpendGrant memory h = handler.grantAt(l);
                if (g.account != h.account || g.nonce != h.nonce) continue;
                assertFalse(vault.spentOf(vault.grantId(g)) != 0 && vault.spentOf(vault.grantId(h)) != 0);
            }
        }
    }

    /// Every settlement moved exactly its grants' added spend from credit to the buyback.
    function invariant_settlementExact() public view {
        assertFalse(handler.settlementMismatch(), "settlement moved more or less than the added spend");
    }
}
