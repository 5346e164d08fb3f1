// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {INodeRegistry} from "../interfaces/INodeRegistry.sol";

/// @title NodeRegistry
/// @notice Node keys, their accounts and models, and their suspensions and bans. A key's record
/// (account, status, suspension, registration time) fits one slot; its models are a bytes32 list
/// of at most MAX_MODELS ids, which gateways scan off-chain through `isServingModel`.
contract NodeRegistry is AccessControl, EIP712, INodeRegistry {
    /// @notice May suspend and unsuspend nodes and accounts (node reports, both timelocks).
    bytes32 public constant SUSPENDER_ROLE = keccak256("SUSPENDER_ROLE");
    /// @notice May ban nodes and accounts for good (node reports' confirmations, governance).
    bytes32 public constant BANNER_ROLE = keccak256("BANNER_ROLE");
    /// @notice The most models one node may list.
    uint256 public constant MAX_MODELS = 32;
    /// @dev As NODE_KEY_OWNERSHIP_TYPES in sdk/src/typedData.ts.
    bytes32 private constant NODE_KEY_OWNERSHIP_TYPEHASH =
        keccak256("NodeKeyOwnership(address account,address nodeKey,uint256 nonce)");

    struct AccountState {
        bool suspended;
        bool banned;
    }

    mapping(address nodeKey => Node) private _nodes;
    mapping(address nodeKey => bytes32[]) private _models;
    mapping(address account => AccountState) private _accounts;
    /// @dev Bumped by every registration of the key, so that each proof registers it once.
    mapping(address nodeKey => uint256) private _keyNonces;

    constructor(address admin) EIP712("POD NodeRegistry", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc INodeRegistry
    function registerNode(
        address nodeKey,
        bytes32[] calldata modelIds,
        string calldata metadataURI,
        bytes calldata keySignature
    ) external {
        if (nodeKey == address(0)) revert ZeroAddress();
        if (_accounts[msg.sender].banned) revert AccountIsBanned(msg.sender);
        Node storage node = _nodes[nodeKey];
        address owner = node.account;
        NodeStatus status = node.status;
        // A banned account's keys are banned with it, so they cannot return under an alias.
        if (status == NodeStatus.Banned || _accounts[owner].banned) revert NodeIsBanned(nodeKey);
        if (status == NodeStatus.Active) {
            if (owner == msg.sender) revert NodeAlreadyActive(nodeKey);
            revert NodeOwnedByOther(nodeKey, owner);
        }
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(keyOwnershipDigest(msg.sender, nodeKey), keySignature);
        if (err != ECDSA.RecoverError.NoError || signer != nodeKey) revert InvalidKeySignature(nodeKey, msg.sender);
        _checkModels(nodeKey, modelIds);

        // The proof is spent: a former owner cannot replay it to take the key back.
        ++_keyNonces[nodeKey];
        // A suspension stays with the key across leaving, rejoining and changing hands.
        (node.account, node.status, node.registeredAt) = (msg.sender, NodeStatus.Active, uint64(block.timestamp));
        node.metadataURI = metadataURI;
        _models[nodeKey] = modelIds;
        emit NodeRegistered(nodeKey, msg.sender, modelIds, metadataURI);
    }

    /// @inheritdoc INodeRegistry
    function updateNode(address nodeKey, bytes32[] calldata modelIds, string calldata metadataURI) external {
        if (_accounts[msg.sender].banned) revert AccountIsBanned(msg.sender);
        Node storage node = _ownActiveNode(nodeKey);
        _checkModels(nodeKey, modelIds);
        node.metadataURI = metadataURI;
        _models[nodeKey] = modelIds;
        emit NodeUpdated(nodeKey, modelIds, metadataURI);
    }

    /// @inheritdoc INodeRegistry
    function deregisterNode(address nodeKey) external {
        _ownActiveNode(nodeKey).status = NodeStatus.Left;
        emit NodeDeregistered(nodeKey, msg.sender);
    }

    /// @inheritdoc INodeRegistry
    function setNodeSuspended(address nodeKey, bool suspended, bytes32 reason) external onlyRole(SUSPENDER_ROLE) {
        Node storage node = _knownNode(nodeKey);
        if (node.status == NodeStatus.Banned) revert NodeIsBanned(nodeKey);
        if (node.suspended == suspended) revert SuspensionUnchanged(nodeKey, suspended);
        node.suspended = suspended;
        emit NodeSuspensionChanged(nodeKey, suspended, reason);
    }

    /// @inheritdoc INodeRegistry
    function setAccountSuspended(address account, bool suspended, bytes32 reason) external onlyRole(SUSPENDER_ROLE) {
        AccountState storage state = _accountState(account);
        if (state.suspended == suspended) revert SuspensionUnchanged(account, suspended);
        state.suspended = suspended;
        emit AccountSuspensionChanged(account, suspended, reason);
    }

    /// @inheritdoc INodeRegistry
    function banNode(address nodeKey, bytes32 reason) external onlyRole(BANNER_ROLE) {
        Node storage node = _knownNode(nodeKey);
        if (node.status == NodeStatus.Banned) revert NodeIsBanned(nodeKey);
        node.status = NodeStatus.Banned;
        emit NodeBanned(nodeKey, node.account, reason);
    }

    /// @inheritdoc INodeRegistry
    function banAccount(address account, bytes32 reason) external onlyRole(BANNER_ROLE) {
        _accountState(account).banned = true;
        emit AccountBanned(account, reason);
    }

    /// @inheritdoc INodeRegistry
    function getNode(address nodeKey) external view returns (Node memory) {
        return _nodes[nodeKey];
    }

    /// @inheritdoc INodeRegistry
    function nodeModels(address nodeKey) external view returns (bytes32[] memory) {
        return _models[nodeKey];
    }

    /// @inheritdoc INodeRegistry
    function isNodeServing(address nodeKey) public view returns (bool) {
        Node storage node = _nodes[nodeKey];
        if (node.status != NodeStatus.Active || node.suspended) return false;
        AccountState memory account = _accounts[node.account];
        return !account.suspended && !account.banned;
    }

    /// @inheritdoc INodeRegistry
    function isServingModel(address nodeKey, bytes32 modelId) external view returns (bool) {
        if (!isNodeServing(nodeKey)) return false;
        bytes32[] storage models = _models[nodeKey];
        uint256 count = models.length;
        for (uint256 i; i < count; ++i) {
            if (models[i] == modelId) return true;
        }
        return false;
    }

    /// @inheritdoc INodeRegistry
    function accountOf(address nodeKey) external view returns (address) {
        return _nodes[nodeKey].account;
    }

    /// @inheritdoc INodeRegistry
    function accountStatus(address account) external view returns (bool suspended, bool banned) {
        AccountState memory state = _accounts[account];
        return (state.suspended, state.banned);
    }

    /// @inheritdoc INodeRegistry
    function keyOwnershipDigest(address account, address nodeKey) public view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(NODE_KEY_OWNERSHIP_TYPEHASH, account, nodeKey, _keyNonces[nodeKey]));
        return _hashTypedDataV4(structHash);
    }

    /// @inheritdoc INodeRegistry
    function keyNonce(address nodeKey) external view returns (uint256) {
        return _keyNonces[nodeKey];
    }

    /// @dev Between 1 and MAX_MODELS distinct ids; the quadratic scan is at most 496 comparisons.
    function _checkModels(address nodeKey, bytes32[] calldata modelIds) private pure {
        uint256 count = modelIds.length;
        if (count == 0) revert NoModels(nodeKey);
        if (count > MAX_MODELS) revert TooManyModels(nodeKey, count, MAX_MODELS);
        for (uint256 i = 1; i < count; ++i) {
            bytes32 id = modelIds[i];
            for (uint256 j; j < i; ++j) {
                if (modelIds[j] == id) revert DuplicateModel(nodeKey, id);
            }
        }
    }

    function _ownActiveNode(address nodeKey) private view returns (Node storage node) {
        node = _nodes[nodeKey];
        if (node.account != msg.sender) revert NotNodeOwner(nodeKey, msg.sender);
        if (node.status != NodeStatus.Active) revert NodeNotActive(nodeKey, node.status);
    }

    function _knownNode(address nodeKey) private view returns (Node storage node) {
        node = _nodes[nodeKey];
        if (node.status == NodeStatus.None) revert UnknownNode(nodeKey);
    }

    /// @dev A live (unbanned, nonzero) account's state, for suspending or banning it.
    function _accountState(address account) private view returns (AccountState storage state) {
        if (account == address(0)) revert ZeroAddress();
        state = _accounts[account];
        if (state.banned) revert AccountIsBanned(account);
    }
}
