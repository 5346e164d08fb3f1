// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {CreditVault} from "../../contracts/settlement/CreditVault.sol";
import {ICreditVault} from "../../contracts/interfaces/ICreditVault.sol";

/// @dev Drives random users and one gateway through deposits, settlements (valid or not),
/// revocations, withdrawals and time, and keeps ghost totals per asset.
contract CreditHandler is CommonBase, StdUtils {
    address public constant GATEWAY = address(0x6A7E);

    CreditVault public immutable vault;
    address public immutable buyback;
    address[] public assets;
    address[] public actors;
    uint256[] internal _keys;
    ICreditVault.SpendGrant[] internal _grants;
    bytes[] internal _signatures;

    mapping(address asset => uint256) public ghostDeposited;
    mapping(address asset => uint256) public ghostWithdrawn;
    /// Whether a settlement ever moved credit or revenue other than its grants' added spend.
    bool public settlementMismatch;

    constructor(CreditVault vault_, address[] memory assets_, uint256[] memory keys) {
        (vault, buyback, assets, _keys) = (vault_, vault_.buyback(), assets_, keys);
        for (uint256 i = 0; i < keys.length; ++i) {
            address account = vm.addr(keys[i]);
            actors.push(account);
            // Per account and asset: a long grant and a short one that expires early on; the
            // long grants of one nonce per account reuse it across assets, so binding is tested.
            for (uint256 j = 0; j < assets_.length; ++j) {
                _addGrant(i, j, 1_000e6 * (j + 1), uint64(block.timestamp + 400 days), j);
                _addGrant(i, j, 500e6, uint64(block.timestamp + 2 days), 10 + j);
            }
            _addGrant(i, 0, 2_000e6, uint64(block.timestamp + 400 days), 0);
        }
    }

    function _addGrant(uint256 actor, uint256 asset, uint256 cap, uint64 expiry, uint256 nonce) private {
        ICreditVault.SpendGrant memory g = ICreditVault.SpendGrant(actors[actor], GATEWAY, assets[asset], cap, expiry, nonce);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_keys[actor], vault.grantDigest(g));
        _grants.push(g);
        _signatures.push(abi.encodePacked(r, s, v));
    }

    function grantCount() external view returns (uint256) {
        return _grants.length;
    }

    function grantAt(uint256 i) external view returns (ICreditVault.SpendGrant memory) {
        return _grants[i];
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function assetCount() external view returns (uint256) {
        return assets.length;
    }

    function deposit(uint256 actorSeed, uint256 assetSeed, uint256 amount) external {
        address a = actors[actorSeed % actors.length];
        address asset = assets[assetSeed % assets.length];
        amount = bound(amount, 1, IERC20(asset).balanceOf(a) / 4 + 1);
        vm.prank(a);
        vault.deposit(asset, amount);
        ghostDeposited[asset] += amount;
    }

    /// Settles up to five random usages. A valid batch keeps every entry within its grant's
    /// cap, the account's credit, expiry, revocation and nonce, so it must succeed; a wild one
    /// (one in four) overshoots at random, and whatever it breaks must revert.
    function settle(uint256 seed, uint256 count) external {
        count = bound(count, 1, 5);
        bool wild = seed % 4 == 0;
        ICreditVault.Usage[] memory usages = new ICreditVault.Usage[](count);
        uint256[] memory planned = _spents();
        uint256[] memory credit = _credits();
        for (uint256 i = 0; i < count; ++i) {
            uint256 k = uint256(keccak256(abi.encode(seed, i))) % _grants.length;
            ICreditVault.SpendGrant memory g = _grants[k];
            uint256 c = _actorIndex(g.account) * assets.length + _assetIndex(g.asset);
            uint256 room = _settleable(k, planned) ? _min(g.cap - planned[k], credit[c]) : 0;
            uint256 r = uint256(keccak256(abi.encode(seed, i, "step")));
            uint256 step = wild ? bound(r, 0, g.cap / 2 + 1) : bound(r, 0, room);
            planned[k] += step;
            credit[c] -= _min(step, credit[c]);
            usages[i] = ICreditVault.Usage(g, _signatures[k], planned[k]);
        }
        uint256[] memory spentBefore = _spents();
        uint256[] memory creditBefore = _credits();
        uint256[] memory revenueBefore = _buybackBalances();
        vm.prank(GATEWAY);
        vault.settle(seed, usages);
        _checkSettlement(spentBefore, creditBefore, revenueBefore);
    }

    /// Each account's credit fell by exactly its grants' added spend, and the buyback received
    /// exactly the added spend per asset.
    function _checkSettlement(uint256[] memory spentBefore, uint256[] memory creditBefore, uint256[] memory revenueBefore)
        private
    {
        uint256[] memory spentAfter = _spents();
        uint256[] memory charged = new uint256[](actors.length * assets.length);
        uint256[] memory revenue = new uint256[](assets.length);
        for (uint256 k = 0; k < _grants.length; ++k) {
            uint256 added = spentAfter[k] - spentBefore[k];
            uint256 j = _assetIndex(_grants[k].asset);
            charged[_actorIndex(_grants[k].account) * assets.length + j] += added;
            revenue[j] += added;
        }
        uint256[] memory creditAfter = _credits();
        for (uint256 i = 0; i < creditAfter.length; ++i) {
            if (creditBefore[i] - creditAfter[i] != charged[i]) settlementMismatch = true;
        }
        uint256[] memory revenueAfter = _buybackBalances();
        for (uint256 j = 0; j < assets.length; ++j) {
            if (revenueAfter[j] - revenueBefore[j] != revenue[j]) settlementMismatch = true;
        }
    }

    function revoke(uint256 actorSeed, uint256 nonce) external {
        vm.prank(actors[actorSeed % actors.length]);
        vault.revokeGrant(bound(nonce, 0, 11));
    }

    function requestWithdrawal(uint256 actorSeed, uint256 assetSeed, uint256 amount) external {
        address a = actors[actorSeed % actors.length];
        address asset = assets[assetSeed % assets.length];
        amount = bound(amount, 1, vault.creditOf(a, asset) + 1);
        vm.prank(a);
        vault.requestWithdrawal(asset, amount);
    }

    function cancelWithdrawal(uint256 actorSeed, uint256 assetSeed) external {
        vm.prank(actors[actorSeed % actors.length]);
        vault.cancelWithdrawal(assets[assetSeed % assets.length]);
    }

    function completeWithdrawal(uint256 actorSeed, uint256 assetSeed) external {
        address a = actors[actorSeed % actors.length];
        address asset = assets[assetSeed % assets.length];
        uint256 before = IERC20(asset).balanceOf(a);
        vm.prank(a);
        vault.completeWithdrawal(asset);
        ghostWithdrawn[asset] += IERC20(asset).balanceOf(a) - before;
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 2 days));
    }

    /// Whether grant `k` may still be charged: inside its expiry and revocation grace, and its
    /// nonce not bound (or about to be) to a sibling grant.
    function _settleable(uint256 k, uint256[] memory planned) private view returns (bool) {
        ICreditVault.SpendGrant memory g = _grants[k];
        uint256 grace = vault.params().getParameter("creditWithdrawalDelay");
        if (block.timestamp > g.expiry + grace) return false;
        uint64 revoked = vault.revokedAt(g.account, g.nonce);
        if (revoked != 0 && block.timestamp > revoked + grace) return false;
        for (uint256 l = 0; l < _grants.length; ++l) {
            if (l != k && _grants[l].account == g.account && _grants[l].nonce == g.nonce && planned[l] != 0) return false;
        }
        return true;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }

    function _spents() private view returns (uint256[] memory spent) {
        spent = new uint256[](_grants.length);
        for (uint256 k = 0; k < _grants.length; ++k) {
            spent[k] = vault.spentOf(vault.grantId(_grants[k]));
        }
    }

    function _buybackBalances() private view returns (uint256[] memory balances) {
        balances = new uint256[](assets.length);
        for (uint256 j = 0; j < assets.length; ++j) {
            balances[j] = IERC20(assets[j]).balanceOf(buyback);
        }
    }

    function _actorIndex(address a) private view returns (uint256 i) {
        while (actors[i] != a) ++i;
    }

    function _assetIndex(address asset) private view returns (uint256 j) {
        while (assets[j] != asset) ++j;
    }

    /// Every actor's credit in every asset, flattened.
    function _credits() private view returns (uint256[] memory c) {
        c = new uint256[](actors.length * assets.length);
        for (uint256 i = 0; i < actors.length; ++i) {
            for (uint256 j = 0; j < assets.length; ++j) {
                c[i * assets.length + j] = vault.creditOf(actors[i], assets[j]);
            }
        }
    }
}
