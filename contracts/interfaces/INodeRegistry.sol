// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

/// @title INodeRegistry
/// @notice Worker nodes of the network. An account registers node keys (proving it holds each key
/// with an EIP-712 signature by the key over the account and the key's nonce, so that each proof
/// registers the key once), the models each node serves and a metadata URI. Nodes leave and rejoin at will. Nodes and accounts can be suspended (a review is
/// open) and banned for good; a banned key or account never registers again, under any account.
interface INodeRegistry {
    /// @notice Lifecycle of a node key. `None`: never registered; `Active`: registered and in the
    /// pool; `Left`: deregistered by its account, may rejoin; `Banned`: never again.
    enum NodeStatus {
        None,
        Active,
        Left,
        Banned
    }

    /// @notice A node key's record.
    /// @param account The account that owns the node and whose bond covers it.
    /// @param status Its lifecycle status.
    /// @param suspended Whether it is suspended (pending review); suspended nodes get no work.
    /// @param registeredAt When it last registered or rejoined.
    /// @param metadataURI Where its operator publishes its description (region, hardware...).
    struct Node {
        address account;
        NodeStatus status;
        bool suspended;
        uint64 registeredAt;
        string metadataURI;
    }

    /// @notice Thrown when the node key or the account is the zero address.
    error ZeroAddress();
    /// @notice Thrown when the proof of possession was not signed by `nodeKey` over `account` and the
    /// key's current nonce (a proof that registered the key once is refused ever after).
    error InvalidKeySignature(address nodeKey, address account);
    /// @notice Thrown when a node is registered with no model.
    error NoModels(address nodeKey);
    /// @notice Thrown when a node lists more models than `max` (bounds its storage and lookups).
    error TooManyModels(address nodeKey, uint256 count, uint256 max);
    /// @notice Thrown when a node lists `modelId` twice.
    error DuplicateModel(address nodeKey, bytes32 modelId);
    /// @notice Thrown when a node key is registered to another account.
    error NodeOwnedByOther(address nodeKey, address owner);
    /// @notice Thrown when registering a node key that is already active.
    error NodeAlreadyActive(address nodeKey);
    /// @notice Thrown when the caller does not own `nodeKey`.
    error NotNodeOwner(address nodeKey, address caller);
    /// @notice Thrown when acting on a node that is not active.
    error NodeNotActive(address nodeKey, NodeStatus status);
    /// @notice Thrown when a node key is unknown.
    error UnknownNode(address nodeKey);
    /// @notice Thrown when a banned node key is used.
    error NodeIsBanned(address nodeKey);
    /// @notice Thrown when a banned account acts or is acted for.
    error AccountIsBanned(address account);
    /// @notice Thrown when suspending what is already suspended, or unsuspending what is not.
    error SuspensionUnchanged(address subject, bool suspended);

    /// @notice Emitted when `nodeKey` joins (or rejoins) the pool for `account`.
    event NodeRegistered(address indexed nodeKey, address indexed account, bytes32[] modelIds, string metadataURI);
    /// @notice Emitted when a node's models or metadata change.
    event NodeUpdated(address indexed nodeKey, bytes32[] modelIds, string metadataURI);
    /// @notice Emitted when a node leaves the pool.
    event NodeDeregistered(address indexed nodeKey, address indexed account);
    /// @notice Emitted when a node's suspension changes; `reason` is an evidence or report hash.
    event NodeSuspensionChanged(address indexed nodeKey, bool suspended, bytes32 reason);
    /// @notice Emitted when an account's suspension changes.
    event AccountSuspensionChanged(address indexed account, bool suspended, bytes32 reason);
    /// @notice Emitted when a node key is banned for good.
    event NodeBanned(address indexed nodeKey, address indexed account, bytes32 reason);
    /// @notice Emitted when an account is banned for good.
    event AccountBanned(address indexed account, bytes32 reason);

    /// @notice Registers (or re-registers after leaving) `nodeKey` for the caller. Every registration
    /// needs a fresh proof over the key's current nonce, and bumps the nonce. A key that left may be
    /// registered by another account (with a proof for that account); it keeps any suspension. A
    /// banned key, or any key of a banned account, never registers again.
    /// @param keySignature EIP-712 `NodeKeyOwnership(address account,address nodeKey,uint256 nonce)`
    /// signed by `nodeKey`, with `nonce` = `keyNonce(nodeKey)`.
    function registerNode(
        address nodeKey,
        bytes32[] calldata modelIds,
        string calldata metadataURI,
        bytes calldata keySignature
    ) external;

    /// @notice Replaces the models and metadata of one of the caller's active nodes.
    function updateNode(address nodeKey, bytes32[] calldata modelIds, string calldata metadataURI) external;

    /// @notice Takes one of the caller's nodes out of the pool; it may rejoin later.
    function deregisterNode(address nodeKey) external;

    /// @notice Suspends or unsuspends a node. SUSPENDER_ROLE only.
    function setNodeSuspended(address nodeKey, bool suspended, bytes32 reason) external;

    /// @notice Suspends or unsuspends every node of an account. SUSPENDER_ROLE only.
    function setAccountSuspended(address account, bool suspended, bytes32 reason) external;

    /// @notice Bans a node key for good. BANNER_ROLE only (node reports' confirmations and governance;
    /// the security timelock suspends but never bans).
    function banNode(address nodeKey, bytes32 reason) external;

    /// @notice Bans an account for good: its nodes stop serving and it registers nothing again.
    /// BANNER_ROLE only.
    function banAccount(address account, bytes32 reason) external;

    /// @notice The record of `nodeKey`.
    function getNode(address nodeKey) external view returns (Node memory);

    /// @notice The models `nodeKey` serves.
    function nodeModels(address nodeKey) external view returns (bytes32[] memory);

    /// @notice Whether `nodeKey` may take work now: active, not suspended, its account neither
    /// suspended nor banned.
    function isNodeServing(address nodeKey) external view returns (bool);

    /// @notice Whether `nodeKey` may take work for `modelId` now.
    function isServingModel(address nodeKey, bytes32 modelId) external view returns (bool);

    /// @notice The account of `nodeKey` (zero if never registered).
    function accountOf(address nodeKey) external view returns (address);

    /// @notice Whether `account` is suspended / banned.
    function accountStatus(address account) external view returns (bool suspended, bool banned);

    /// @notice The EIP-712 digest a node key signs to prove possession for `account`, over the key's
    /// current nonce.
    function keyOwnershipDigest(address account, address nodeKey) external view returns (bytes32);

    /// @notice How many times `nodeKey` has been registered: the nonce its next proof must sign.
    function keyNonce(address nodeKey) external view returns (uint256);
}
