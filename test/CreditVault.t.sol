// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {PodTest} from "./utils/PodTest.sol";
import {CreditVault} from "../contracts/settlement/CreditVault.sol";
import {DevStablecoin} from "../contracts/devnet/DevStablecoin.sol";
import {ProtocolParams} from "../contracts/governance/ProtocolParams.sol";
import {ICreditVault} from "../contracts/interfaces/ICreditVault.sol";
import {IProtocolParams} from "../contracts/interfaces/IProtocolParams.sol";

/// @dev A token that burns `feeBps` of every transfer, like the fee-on-transfer tokens the
/// vault must not over-credit. No such token exists in the protocol, hence this stand-in.
contract FeeToken is ERC20 {
    uint256 public immutable feeBps;

    constructor(uint256 feeBps_) ERC20("Fee", "FEE") {
        feeBps = feeBps_;
        _mint(msg.sender, 1e30);
    }

    function _update(address from, address to, uint256 value) internal override {
        uint256 fee = from == address(0) ? 0 : (value * feeBps) / 10_000;
        if (fee != 0) super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}

/// @dev A minimal ERC-1271 smart account: valid signatures are its owner key's.
contract OwnedAccount is IERC1271 {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        return ECDSA.recover(hash, signature) == owner ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}

/// @dev Fuzz tests of settlement amounts, fee-on-transfer deposits, capped withdrawals and
/// smart-account grants.
contract CreditVaultFuzzTest is PodTest {
    uint256 internal constant ALICE_KEY = 0xA11CE;
    address internal alice;
    address internal constant GATEWAY = address(0x6A7E);
    address internal constant BUYBACK = address(0xB0B);
    DevStablecoin internal usd;
    CreditVault internal vault;

    function setUp() public {
        alice = vm.addr(ALICE_KEY);
        ProtocolParams params = new ProtocolParams(address(this), 0, new bytes32[](0), new uint256[](0));
        usd = new DevStablecoin(address(this));
        address[] memory assets = new address[](1);
        assets[0] = address(usd);
        vault = new CreditVault(IProtocolParams(address(params)), BUYBACK, address(this), assets);
        usd.mint(alice, 1e15);
        vm.prank(alice);
        usd.approve(address(vault), type(uint256).max);
    }

    function _grant(address account, uint256 cap) internal view returns (ICreditVault.SpendGrant memory) {
        return ICreditVault.SpendGrant(account, GATEWAY, address(usd), cap, uint64(block.timestamp + 30 days), 1);
    }

    function _usage(ICreditVault.SpendGrant memory grant, uint256 key, uint256 cumulative)
        internal
        view
        returns (ICreditVault.Usage[] memory usages)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, vault.grantDigest(grant));
        usages = new ICreditVault.Usage[](1);
        usages[0] = ICreditVault.Usage(grant, abi.encodePacked(r, s, v), cumulative);
    }

    /// Each settlement charges exactly its increment over what settled, within cap and credit,
    /// and every refused one leaves all balances untouched.
    function testFuzz_settleChargesIncrements(uint256 deposited, uint256 cap, uint256 c1, uint256 c2) public {
        deposited = bound(deposited, 1, 1e12);
        cap = bound(cap, 1, 2e12);
        vm.prank(alice);
        vault.deposit(address(usd), deposited);
        ICreditVault.SpendGrant memory grant = _grant(alice, cap);
        uint256 settled = _settleAndCheck(grant, deposited, 0, bound(c1, 0, 2e12));
        _settleAndCheck(grant, deposited, settled, bound(c2, 0, 2e12));
    }

    /// Sends `cumulative` for `grant` and checks the outcome against the model; returns what
    /// has settled after it.
    function _settleAndCheck(ICreditVault.SpendGrant memory grant, uint256 deposited, uint256 settled, uint256 cumulative)
        internal
        returns (uint256)
    {
        bytes32 id = vault.grantId(grant);
        ICreditVault.Usage[] memory usages = _usage(grant, ALICE_KEY, cumulative);
        if (cumulative > settled) {
            if (cumulative > grant.cap) {
                vm.expectRevert(abi.encodeWithSelector(ICreditVault.GrantCapExceeded.selector, id, cumulative, grant.cap));
            } else if (cumulative > deposited) {
                bytes memory err = abi.encodeWithSelector(
                    ICreditVault.InsufficientCredit.selector,
                    alice,
                    address(usd),
                    cumulative - settled,
                    deposited - settled
                );
                vm.expectRevert(err);
            } else {
                settled = cumulative;
            }
        }
        vm.prank(GATEWAY);
        vault.settle(1, usages);
        assertEq(vault.spentOf(id), settled);
        assertEq(vault.creditOf(alice, address(usd)), deposited - settled);
        assertEq(usd.balanceOf(BUYBACK), settled);
        assertEq(usd.balanceOf(address(vault)), deposited - settled);
        return settled;
    }

    /// A fee-on-transfer token credits only what the vault received.
    function testFuzz_feeOnTransferCreditsWhatArrived(uint256 feeBps, uint256 amount) public {
        feeBps = bound(feeBps, 0, 5_000);
        amount = bound(amount, 1, 1e24);
        FeeToken fee = new FeeToken(feeBps);
        vault.setAssetAccepted(address(fee), true);
        fee.approve(address(vault), amount);
        vault.deposit(address(fee), amount);
        uint256 received = amount - (amount * feeBps) / 10_000;
        assertEq(vault.creditOf(address(this), address(fee)), received);
        assertEq(fee.balanceOf(address(vault)), received);
    }

    /// A withdrawal pays min(requested, credit left after settlement while it waited).
    function testFuzz_withdrawalCappedBySettlement(uint256 deposited, uint256 requested, uint256 spent) public {
        deposited = bound(deposited, 1, 1e12);
        requested = bound(requested, 1, 2e12);
        spent = bound(spent, 0, deposited);
        vm.startPrank(alice);
        vault.deposit(address(usd), deposited);
        vault.requestWithdrawal(address(usd), requested);
        vm.stopPrank();
        ICreditVault.Usage[] memory usages = _usage(_grant(alice, deposited), ALICE_KEY, spent);
        vm.prank(GATEWAY);
        vault.settle(1, usages);
        vm.warp(block.timestamp + 3 days);
        uint256 before = usd.balanceOf(alice);
        vm.prank(alice);
        vault.completeWithdrawal(address(usd));
        uint256 left = deposited - spent;
        uint256 paid = requested < left ? requested : left;
        assertEq(usd.balanceOf(alice) - before, paid);
        assertEq(vault.creditOf(alice, address(usd)), left - paid);
    }

    /// A smart account's grant is checked through ERC-1271.
    function test_smartAccountGrantSettles() public {
        uint256 ownerKey = 0x0DD;
        OwnedAccount account = new OwnedAccount(vm.addr(ownerKey));
        vm.prank(alice);
        vault.depositFor(address(account), address(usd), 100);
        ICreditVault.SpendGrant memory grant = _grant(address(account), 100);
        bytes32 id = vault.grantId(grant);
        ICreditVault.Usage[] memory forged = _usage(grant, ALICE_KEY, 40);
        ICreditVault.Usage[] memory signed = _usage(grant, ownerKey, 40);
        vm.prank(GATEWAY);
        vm.expectRevert(abi.encodeWithSelector(ICreditVault.InvalidGrantSignature.selector, id, address(account)));
        vault.settle(1, forged);
        vm.prank(GATEWAY);
        vault.settle(1, signed);
        assertEq(vault.creditOf(address(account), address(usd)), 60);
        assertEq(usd.balanceOf(BUYBACK), 40);
    }
}
