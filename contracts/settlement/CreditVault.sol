// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ICreditVault} from "../interfaces/ICreditVault.sol";
import {IProtocolParams} from "../interfaces/IProtocolParams.sol";

/// @title CreditVault
/// @notice Prepaid inference credit spent by gateways under EIP-712 spend grants. Owned by the
/// governance timelock, which governs the accepted assets and the buyback address.
/// @dev Settlement grace: usage a gateway served before a grant expired or was revoked may be
/// settled for `creditWithdrawalDelay` afterwards, the same delay a withdrawal waits, so a user
/// can neither withdraw nor revoke its way out of usage already served. A whole batch reverts on
/// any invalid entry: the gateway checks grants before serving and never over-serves, so an
/// invalid entry is a gateway bug that must surface rather than be dropped silently.
/// The grace is read when settling, so governance lengthening `creditWithdrawalDelay` also
/// lengthens it for grants already expired or revoked; the cap stays the hard limit a user signed.
contract CreditVault is ICreditVault, Ownable, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev Must match SPEND_GRANT_TYPES in sdk/src/typedData.ts.
    bytes32 private constant SPEND_GRANT_TYPEHASH =
        keccak256("SpendGrant(address account,address gateway,address asset,uint256 cap,uint64 expiry,uint256 nonce)");

    IProtocolParams public immutable params;
    /// @inheritdoc ICreditVault
    address public buyback;

    mapping(address asset => bool) private _accepted;
    mapping(address account => mapping(address asset => uint256)) private _credit;
    mapping(address account => mapping(address asset => Withdrawal)) private _withdrawals;
    mapping(bytes32 grantId => uint256) private _spent;
    /// @dev The grant a nonce was first settled under; no other grant may use that nonce.
    mapping(address account => mapping(uint256 nonce => bytes32 grantId)) private _nonceGrant;
    mapping(address account => mapping(uint256 nonce => uint64)) private _revokedAt;

    constructor(IProtocolParams params_, address buyback_, address owner_, address[] memory acceptedAssets)
        Ownable(owner_)
        EIP712("POD CreditVault", "1")
    {
        if (address(params_) == address(0)) revert ZeroAddress();
        params = params_;
        _setBuyback(buyback_);
        for (uint256 i = 0; i < acceptedAssets.length; ++i) {
            _setAssetAccepted(acceptedAssets[i], true);
        }
    }

    // ---------------------------------------------------------------- deposits

    /// @inheritdoc ICreditVault
    function deposit(address asset, uint256 amount) external {
        _deposit(msg.sender, asset, amount);
    }

    /// @inheritdoc ICreditVault
    function depositFor(address account, address asset, uint256 amount) external {
        if (account == address(0)) revert ZeroAddress();
        _deposit(account, asset, amount);
    }

    // -------------------------------------------------------------- settlement

    /// @inheritdoc ICreditVault
    function settle(uint256 epoch, Usage[] calldata usages) external nonReentrant {
        uint256 grace = params.getParameter("creditWithdrawalDelay");
        // Revenue per distinct asset. The gateway sorts usages by asset, so the previous entry's
        // asset is nearly always the match; otherwise a short linear search keeps any order right.
        address[] memory assets = new address[](usages.length);
        uint256[] memory revenue = new uint256[](usages.length);
        uint256 distinct;
        uint256 slot;
        for (uint256 i = 0; i < usages.length; ++i) {
            uint256 charge = _settleOne(epoch, usages[i], grace);
            if (charge == 0) continue;
            address asset = usages[i].grant.asset;
            if (distinct == 0 || assets[slot] != asset) {
                slot = 0;
                while (slot < distinct && assets[slot] != asset) ++slot;
                if (slot == distinct) assets[distinct++] = asset;
            }
            revenue[slot] += charge;
        }
        address to = buyback;
        for (uint256 j = 0; j < distinct; ++j) {
            emit RevenueForwarded(assets[j], to, epoch, revenue[j]);
        }
        for (uint256 j = 0; j < distinct; ++j) {
            IERC20(assets[j]).safeTransfer(to, revenue[j]);
        }
    }

    /// @inheritdoc ICreditVault
    function revokeGrant(uint256 nonce) external {
        if (_revokedAt[msg.sender][nonce] != 0) revert AlreadyRevoked(msg.sender, nonce);
        uint64 at = uint64(block.timestamp);
        _revokedAt[msg.sender][nonce] = at;
        emit GrantRevocationRecorded(msg.sender, nonce, at);
    }

    // ------------------------------------------------------------- withdrawals

    /// @inheritdoc ICreditVault
    function requestWithdrawal(address asset, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint64 readyAt = uint64(block.timestamp + params.getParameter("creditWithdrawalDelay"));
        _withdrawals[msg.sender][asset] = Withdrawal(amount, readyAt);
        emit WithdrawalRequested(msg.sender, asset, amount, readyAt);
    }

    /// @inheritdoc ICreditVault
    function cancelWithdrawal(address asset) external {
        uint256 amount = _withdrawals[msg.sender][asset].amount;
        if (amount == 0) revert NoPendingWithdrawal(msg.sender, asset);
        delete _withdrawals[msg.sender][asset];
        emit WithdrawalCancelled(msg.sender, asset, amount);
    }

    /// @inheritdoc ICreditVault
    function completeWithdrawal(address asset) external nonReentrant {
        Withdrawal memory w = _withdrawals[msg.sender][asset];
        if (w.amount == 0) revert NoPendingWithdrawal(msg.sender, asset);
        if (block.timestamp < w.readyAt) revert WithdrawalNotReady(msg.sender, asset, w.readyAt);
        // Credit stayed spendable while the request waited, so pay what settlement left.
        uint256 balance = _credit[msg.sender][asset];
        uint256 paid = w.amount < balance ? w.amount : balance;
        delete _withdrawals[msg.sender][asset];
        _credit[msg.sender][asset] = balance - paid;
        emit WithdrawalCompleted(msg.sender, asset, paid);
        if (paid != 0) IERC20(asset).safeTransfer(msg.sender, paid);
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc ICreditVault
    function setAssetAccepted(address asset, bool accepted) external onlyOwner {
        _setAssetAccepted(asset, accepted);
    }

    /// @inheritdoc ICreditVault
    function setBuyback(address newBuyback) external onlyOwner {
        _setBuyback(newBuyback);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICreditVault
    function creditOf(address account, address asset) external view returns (uint256) {
        return _credit[account][asset];
    }

    /// @inheritdoc ICreditVault
    function withdrawalOf(address account, address asset) external view returns (Withdrawal memory) {
        return _withdrawals[account][asset];
    }

    /// @inheritdoc ICreditVault
    function spentOf(bytes32 grantId_) external view returns (uint256) {
        return _spent[grantId_];
    }

    /// @inheritdoc ICreditVault
    function nonceGrant(address account, uint256 nonce) external view returns (bytes32) {
        return _nonceGrant[account][nonce];
    }

    /// @inheritdoc ICreditVault
    function revokedAt(address account, uint256 nonce) external view returns (uint64) {
        return _revokedAt[account][nonce];
    }

    /// @inheritdoc ICreditVault
    function grantId(SpendGrant calldata grant) external pure returns (bytes32) {
        return _grantId(grant);
    }

    /// @inheritdoc ICreditVault
    function grantDigest(SpendGrant calldata grant) external view returns (bytes32) {
        return _hashTypedDataV4(_grantId(grant));
    }

    /// @inheritdoc ICreditVault
    function isAccepted(address asset) external view returns (bool) {
        return _accepted[asset];
    }

    // --------------------------------------------------------------- internal

    function _deposit(address account, address asset, uint256 amount) private nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (!_accepted[asset]) revert AssetNotAccepted(asset);
        // Credit what arrived, so a fee-on-transfer token cannot credit more than it pays.
        uint256 before = IERC20(asset).balanceOf(address(this));
        IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(asset).balanceOf(address(this)) - before;
        _credit[account][asset] += received;
        emit CreditDeposited(account, asset, msg.sender, received);
    }

    /// @dev Validates one usage and takes its increment from the account's credit; returns the
    /// charge (0 for an entry already settled, which is skipped without further checks).
    function _settleOne(uint256 epoch, Usage calldata usage, uint256 grace) private returns (uint256 charge) {
        SpendGrant calldata g = usage.grant;
        bytes32 id = _grantId(g);
        if (g.gateway != msg.sender) revert NotGrantGateway(id, g.gateway, msg.sender);
        uint256 spent = _spent[id];
        uint256 cumulative = usage.cumulativeSpent;
        if (cumulative <= spent) return 0;
        // A grant already charged was authenticated then, and its id commits to every field, so
        // only its first charge pays for signature and nonce checks. Revocation is on-chain.
        if (spent == 0) _authenticate(id, g, usage.signature);
        if (block.timestamp > uint256(g.expiry) + grace) revert GrantExpired(id, g.expiry);
        uint64 revoked = _revokedAt[g.account][g.nonce];
        if (revoked != 0 && block.timestamp > uint256(revoked) + grace) {
            revert GrantRevoked(id, g.account, g.nonce);
        }
        if (cumulative > g.cap) revert GrantCapExceeded(id, cumulative, g.cap);
        charge = cumulative - spent;
        uint256 balance = _credit[g.account][g.asset];
        if (balance < charge) revert InsufficientCredit(g.account, g.asset, charge, balance);
        _credit[g.account][g.asset] = balance - charge;
        _spent[id] = cumulative;
        emit UsageSettled(id, g.account, g.gateway, g.asset, epoch, charge, cumulative);
    }

    /// @dev Checks the account's signature (ECDSA, else ERC-1271 for smart accounts) and binds
    /// the grant's nonce to it, so two grants signed with one nonce cannot both be spent.
    function _authenticate(bytes32 id, SpendGrant calldata g, bytes calldata signature) private {
        bytes32 digest = _hashTypedDataV4(id);
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (
            (err != ECDSA.RecoverError.NoError || signer != g.account) &&
            !SignatureChecker.isValidERC1271SignatureNowCalldata(g.account, digest, signature)
        ) revert InvalidGrantSignature(id, g.account);
        bytes32 bound = _nonceGrant[g.account][g.nonce];
        if (bound != bytes32(0) && bound != id) revert NonceAlreadyUsed(g.account, g.nonce, id);
        _nonceGrant[g.account][g.nonce] = id;
    }

    function _grantId(SpendGrant calldata g) private pure returns (bytes32) {
        return keccak256(abi.encode(SPEND_GRANT_TYPEHASH, g.account, g.gateway, g.asset, g.cap, g.expiry, g.nonce));
    }

    function _setAssetAccepted(address asset, bool accepted) private {
        if (asset == address(0)) revert ZeroAddress();
        _accepted[asset] = accepted;
        emit AssetAcceptanceChanged(asset, accepted);
    }

    function _setBuyback(address newBuyback) private {
        if (newBuyback == address(0)) revert ZeroAddress();
        emit BuybackChanged(buyback, newBuyback);
        buyback = newBuyback;
    }
}
