// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

/// @title ICreditVault
/// @notice Prepaid inference credit. Users deposit accepted assets (POD, a stablecoin; the set is
/// governed) and authorise a gateway off-chain with an EIP-712 spend grant. Each epoch the gateway
/// settles usage in one batched call carrying the grants and each grant's cumulative spend; the
/// vault enforces the cap, expiry, revocation and balance, and sends the revenue to the buyback.
/// Unused credit leaves through a delayed withdrawal, so usage made before it always settles.
interface ICreditVault {
    /// @notice What a user signs to let `gateway` spend up to `cap` of its `asset` credit until
    /// `expiry`. `nonce` is chosen by the user; one nonce names one grant for ever.
    struct SpendGrant {
        address account;
        address gateway;
        address asset;
        uint256 cap;
        uint64 expiry;
        uint256 nonce;
    }

    /// @notice One grant's usage in a settlement batch.
    /// @param grant The signed grant.
    /// @param signature The account's EIP-712 signature of `grant`.
    /// @param cumulativeSpent Everything spent under this grant so far (not the increment), so a
    /// batch sent twice charges once.
    struct Usage {
        SpendGrant grant;
        bytes signature;
        uint256 cumulativeSpent;
    }

    /// @notice A pending withdrawal: `amount` of one asset, payable from `readyAt`.
    struct Withdrawal {
        uint256 amount;
        uint64 readyAt;
    }

    /// @notice Thrown when an asset is not accepted as credit.
    error AssetNotAccepted(address asset);
    /// @notice Thrown on a zero amount.
    error ZeroAmount();
    /// @notice Thrown when an account, asset or contract address is the zero address.
    error ZeroAddress();
    /// @notice Thrown when a grant's signature is not the account's.
    error InvalidGrantSignature(bytes32 grantId, address account);
    /// @notice Thrown when a grant is settled by another address than its gateway.
    error NotGrantGateway(bytes32 grantId, address gateway, address caller);
    /// @notice Thrown when a grant is settled after its expiry plus the settlement grace.
    error GrantExpired(bytes32 grantId, uint64 expiry);
    /// @notice Thrown when a grant is settled after its revocation plus the settlement grace.
    error GrantRevoked(bytes32 grantId, address account, uint256 nonce);
    /// @notice Thrown when a grant's nonce already names another grant of the account;
    /// `grantId` is the refused grant's.
    error NonceAlreadyUsed(address account, uint256 nonce, bytes32 grantId);
    /// @notice Thrown when cumulative spend exceeds the grant's cap.
    error GrantCapExceeded(bytes32 grantId, uint256 cumulativeSpent, uint256 cap);
    /// @notice Thrown when an account's balance cannot cover a charge.
    error InsufficientCredit(address account, address asset, uint256 needed, uint256 balance);
    /// @notice Thrown when revoking a nonce that is already revoked.
    error AlreadyRevoked(address account, uint256 nonce);
    /// @notice Thrown when completing or cancelling a withdrawal that does not exist.
    error NoPendingWithdrawal(address account, address asset);
    /// @notice Thrown when completing a withdrawal before its delay has passed.
    error WithdrawalNotReady(address account, address asset, uint64 readyAt);

    /// @notice Emitted when governance accepts or stops accepting an asset for new deposits.
    event AssetAcceptanceChanged(address indexed asset, bool accepted);
    /// @notice Emitted when `payer` adds credit for `account`.
    event CreditDeposited(address indexed account, address indexed asset, address indexed payer, uint256 amount);
    /// @notice Emitted for each grant whose cumulative spend rose in a settlement.
    event UsageSettled(
        bytes32 indexed grantId,
        address indexed account,
        address indexed gateway,
        address asset,
        uint256 epoch,
        uint256 amount,
        uint256 cumulativeSpent
    );
    /// @notice Emitted once per asset and settlement call: the revenue sent to the buyback.
    event RevenueForwarded(address indexed asset, address indexed buyback, uint256 epoch, uint256 amount);
    /// @notice Emitted when an account revokes a grant nonce; usage made before still settles
    /// within the grace period.
    event GrantRevocationRecorded(address indexed account, uint256 indexed nonce, uint64 revokedAt);
    /// @notice Emitted when a withdrawal is requested (replacing any pending one of that asset).
    event WithdrawalRequested(address indexed account, address indexed asset, uint256 amount, uint64 readyAt);
    /// @notice Emitted when a pending withdrawal is cancelled.
    event WithdrawalCancelled(address indexed account, address indexed asset, uint256 amount);
    /// @notice Emitted when a withdrawal pays out (capped at the balance left after settlement).
    event WithdrawalCompleted(address indexed account, address indexed asset, uint256 amount);
    /// @notice Emitted when governance points revenue at a new buyback.
    event BuybackChanged(address indexed oldBuyback, address indexed newBuyback);

    /// @notice Deposits `amount` of `asset` as credit of the caller.
    function deposit(address asset, uint256 amount) external;

    /// @notice Deposits `amount` of the caller's `asset` as credit of `account`.
    function depositFor(address account, address asset, uint256 amount) external;

    /// @notice Settles one epoch of usage for the caller's grants and forwards the revenue.
    /// Entries whose cumulative spend is not above what was settled are skipped (idempotent).
    /// Usage may settle until `creditWithdrawalDelay` after the grant's expiry or revocation.
    /// Any invalid entry reverts the whole batch. `epoch` labels the events only.
    function settle(uint256 epoch, Usage[] calldata usages) external;

    /// @notice Revokes the caller's grant `nonce` (whether or not it was ever used).
    function revokeGrant(uint256 nonce) external;

    /// @notice Asks to withdraw `amount` of `asset`; replaces any pending request of that asset.
    function requestWithdrawal(address asset, uint256 amount) external;

    /// @notice Cancels the caller's pending withdrawal of `asset`.
    function cancelWithdrawal(address asset) external;

    /// @notice Pays the caller's pending withdrawal of `asset` once ready, capped at its balance.
    function completeWithdrawal(address asset) external;

    /// @notice Accepts or stops accepting `asset` for deposits. Owner (timelock) only.
    function setAssetAccepted(address asset, bool accepted) external;

    /// @notice Points future revenue at `newBuyback`. Owner (timelock) only.
    function setBuyback(address newBuyback) external;

    /// @notice Where settled revenue goes.
    function buyback() external view returns (address);

    /// @notice Credit of `account` in `asset`, settled usage already taken out.
    function creditOf(address account, address asset) external view returns (uint256);

    /// @notice The pending withdrawal of `account` in `asset`.
    function withdrawalOf(address account, address asset) external view returns (Withdrawal memory);

    /// @notice Cumulative spend settled under `grantId`.
    function spentOf(bytes32 grantId) external view returns (uint256);

    /// @notice The grant that first settled under `account`'s `nonce` (zero if none): gateways
    /// check it before serving a grant, since no other grant may use that nonce.
    function nonceGrant(address account, uint256 nonce) external view returns (bytes32);

    /// @notice When `account` revoked `nonce` (0 if not revoked).
    function revokedAt(address account, uint256 nonce) external view returns (uint64);

    /// @notice The grant id (EIP-712 struct hash) of `grant`.
    function grantId(SpendGrant calldata grant) external pure returns (bytes32);

    /// @notice The EIP-712 digest an account signs for `grant`.
    function grantDigest(SpendGrant calldata grant) external view returns (bytes32);

    /// @notice Whether `asset` is accepted for deposits.
    function isAccepted(address asset) external view returns (bool);
}
