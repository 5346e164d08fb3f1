// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {RewardsMerkle} from "../libraries/RewardsMerkle.sol";
import {IStakedPod} from "../interfaces/IStakedPod.sol";
import {IBondManager} from "../interfaces/IBondManager.sol";
import {IProtocolParams} from "../interfaces/IProtocolParams.sol";

/// @title RewardsDistributor
/// @notice Holds the node rewards pool and pays cumulative rewards from oracle-signed epoch roots.
/// @dev Roots advance one epoch at a time and their claimable times never decrease, so at any time
/// one root is the latest claimable. Each root has a window, `[from, until)`, in which it is that
/// root: from its claimable time until the next different root's (open while none is proposed).
/// A claim hashes its proof up to a root and reads that root's window: one storage slot, no
/// acceptance step. Consecutive epochs with the same root (nothing changed) share one window.
/// Claims are not summed on-chain (that would cost every claim a storage write), so the pool
/// reserves only what roots not yet claimable promise; see IRewardsDistributor.
contract RewardsDistributor is IRewardsDistributor, AccessControl, EIP712 {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant POOL_SPENDER_ROLE = keccak256("POOL_SPENDER_ROLE");
    /// @dev Must match EPOCH_ROOT_TYPES in sdk/src/typedData.ts.
    bytes32 public constant EPOCH_ROOT_TYPEHASH = keccak256(
        "EpochRoot(uint256 epoch,bytes32 root,uint256 total,bytes32 reportHash,bytes32 validatorsRoot)"
    );
    uint256 private constant PPM = 1_000_000;
    uint40 private constant OPEN = type(uint40).max;

    IERC20 public immutable pod;
    IStakedPod public immutable stakedPod;
    IBondManager public immutable bondManager;
    IProtocolParams public immutable params;

    /// @dev When a root pays claims: from its claimable time `from` until `until` (OPEN while no
    /// different root follows), as the root of `epoch` (the first of a run of epochs sharing
    /// it), whose leaves may not exceed `promised`, the totals of every root up to that epoch.
    /// All zero for a root never proposed or revoked, so `until` alone refuses those. The claim
    /// path's one global slot.
    struct RootWindow {
        uint40 from;
        uint40 until;
        uint48 epoch;
        uint128 promised;
    }

    /// @dev `nextEpoch`: the epoch to propose next; `promised`: totals of roots [0, nextEpoch).
    struct Proposals {
        uint64 nextEpoch;
        uint128 promised;
    }

    Proposals private _proposals;
    mapping(uint256 epoch => EpochRecord) private _records;
    mapping(bytes32 root => RootWindow) private _windows;
    mapping(address account => uint256) private _claimed;
    address[] private _oracleList;
    mapping(address => bool) private _isOracle;
    uint256 private _quorum;

    constructor(
        IERC20 pod_,
        IStakedPod stakedPod_,
        IBondManager bondManager_,
        IProtocolParams params_,
        address admin,
        address[] memory oracles_,
        uint256 quorum_
    ) EIP712("POD RewardsDistributor", "1") {
        (pod, stakedPod, bondManager, params) = (pod_, stakedPod_, bondManager_, params_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setOracles(oracles_, quorum_);
    }

    // ---------------------------------------------------------------- roots

    /// @inheritdoc IRewardsDistributor
    function proposeRoot(EpochRoot calldata epochRoot, bytes[] calldata signatures) external {
        uint128 promised = _checkProposal(epochRoot, signatures);
        uint256 epoch = epochRoot.epoch;
        uint40 claimableAt = _claimableAt(epoch);
        uint128 total = epochRoot.total.toUint128();
        promised += total;
        bytes32 root = epochRoot.root;
        _records[epoch] = EpochRecord({
            root: root,
            reportHash: epochRoot.reportHash,
            validatorsRoot: epochRoot.validatorsRoot,
            total: total,
            claimableAt: claimableAt,
            status: RootStatus.Proposed
        });
        _proposals = Proposals({nextEpoch: uint64(epoch + 1), promised: promised});
        bytes32 previous = epoch == 0 ? bytes32(0) : _records[epoch - 1].root;
        if (epoch == 0 || root != previous) {
            if (epoch != 0) _windows[previous].until = claimableAt;
            // A root reused after a different one (never, for growing cumulative trees) starts afresh.
            _windows[root] = RootWindow({from: claimableAt, until: OPEN, epoch: epoch.toUint48(), promised: promised});
        }
        emit RootProposed(
            epoch,
            root,
            total,
            epochRoot.reportHash,
            epochRoot.validatorsRoot,
            claimableAt,
            msg.sender
        );
    }

    /// @inheritdoc IRewardsDistributor
    function revokeRoot(uint256 epoch) external {
        if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, GUARDIAN_ROLE);
        }
        EpochRecord storage record = _records[epoch];
        // Claimable times never decrease: a root still in its window has only such roots after it.
        if (record.status != RootStatus.Proposed || record.claimableAt <= block.timestamp) {
            revert RootNotRevocable(epoch, record.status, record.claimableAt);
        }
        Proposals memory proposals = _proposals;
        // The root of the epoch before keeps paying; every other revoked root stops.
        bytes32 survivor = epoch == 0 ? bytes32(0) : _records[epoch - 1].root;
        uint128 revoked;
        for (uint256 e = epoch; e < proposals.nextEpoch; ++e) {
            EpochRecord storage r = _records[e];
            r.status = RootStatus.Revoked;
            revoked += r.total;
            if (epoch == 0 || r.root != survivor) delete _windows[r.root];
            emit RootRevoked(e, msg.sender);
        }
        uint128 promised = proposals.promised - revoked;
        _proposals = Proposals({nextEpoch: uint64(epoch), promised: promised});
        if (epoch != 0) _reopen(survivor, epoch - 1, promised);
    }

    // ---------------------------------------------------------------- claims

    /// @inheritdoc IRewardsDistributor
    function claim(address account, uint256 cumulative, bytes32[] calldata proof, bool asBonded)
        external
        returns (uint256 amount)
    {
        bytes32 root = RewardsMerkle.processProofCalldata(proof, RewardsMerkle.leaf(account, cumulative));
        RootWindow memory window = _windows[root];
        if (block.timestamp < window.from || block.timestamp >= window.until) _refuseProof(account, cumulative);
        if (cumulative > window.promised) revert ClaimExceedsRootTotals(cumulative, window.promised);
        uint256 prior = _claimed[account];
        if (cumulative <= prior) revert NothingToClaim(account, cumulative, prior);
        unchecked {
            amount = cumulative - prior; // cumulative > prior
        }
        _claimed[account] = cumulative;
        if (!asBonded) {
            emit RewardsClaimed(account, window.epoch, cumulative, amount);
            pod.safeTransfer(account, amount);
            return amount;
        }
        uint256 bonus = amount * params.getParameter("bondedClaimBonusPpm") / PPM;
        // The bonus comes from the surplus: what the pool holds beyond `amount` and the pending roots.
        (, uint256 pending) = _schedule();
        uint256 balance = pod.balanceOf(address(this));
        uint256 available = balance > amount ? balance - amount : 0;
        if (available < pending + bonus) revert PoolUnderfunded(pending + bonus, available);
        emit BondedRewardsClaimed(account, window.epoch, cumulative, amount, bonus);
        _bondFor(account, amount + bonus);
    }

    /// @inheritdoc IRewardsDistributor
    function payReporter(address reporter, uint256 amount) external onlyRole(POOL_SPENDER_ROLE) returns (uint256 paid) {
        if (reporter == address(0) || amount == 0) revert ZeroAmount();
        uint256 surplus = poolSurplus();
        paid = amount < surplus ? amount : surplus;
        if (paid == 0) return 0;
        emit ReporterPaidFromPool(reporter, paid);
        _bondFor(reporter, paid);
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IRewardsDistributor
    function setOracles(address[] calldata oracles_, uint256 quorum_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setOracles(oracles_, quorum_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IRewardsDistributor
    function claimableEpoch() external view returns (bool exists, uint256 epoch, EpochRecord memory record) {
        (uint256 claimable,) = _schedule();
        if (claimable == 0) return (false, 0, record);
        return (true, claimable - 1, _records[claimable - 1]);
    }

    /// @inheritdoc IRewardsDistributor
    function epochRecord(uint256 epoch) external view returns (EpochRecord memory) {
        return _records[epoch];
    }

    /// @inheritdoc IRewardsDistributor
    function nextEpoch() external view returns (uint256) {
        return _proposals.nextEpoch;
    }

    /// @inheritdoc IRewardsDistributor
    function isValidator(address account, bytes32[] calldata proof) external view returns (bool) {
        (uint256 claimable,) = _schedule();
        if (claimable == 0) return false;
        bytes32 root = _records[claimable - 1].validatorsRoot;
        return root != bytes32(0)
            && MerkleProof.verifyCalldata(proof, root, keccak256(bytes.concat(keccak256(abi.encode(account)))));
    }

    /// @inheritdoc IRewardsDistributor
    function claimed(address account) external view returns (uint256) {
        return _claimed[account];
    }

    /// @inheritdoc IRewardsDistributor
    function oracles() external view returns (address[] memory oracleSet, uint256 quorum) {
        return (_oracleList, _quorum);
    }

    /// @inheritdoc IRewardsDistributor
    function poolSurplus() public view returns (uint256) {
        (, uint256 pending) = _schedule();
        uint256 balance = pod.balanceOf(address(this));
        return balance > pending ? balance - pending : 0;
    }

    /// @inheritdoc IRewardsDistributor
    function epochRootDigest(EpochRoot calldata epochRoot) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    EPOCH_ROOT_TYPEHASH,
                    epochRoot.epoch,
                    epochRoot.root,
                    epochRoot.total,
                    epochRoot.reportHash,
                    epochRoot.validatorsRoot
                )
            )
        );
    }

    /// @dev The interface id of IRewardsDistributor too.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IRewardsDistributor).interfaceId || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Reverts unless `epochRoot` may be proposed now with `signatures`; returns the totals
    /// promised before it.
    function _checkProposal(EpochRoot calldata epochRoot, bytes[] calldata signatures)
        private
        view
        returns (uint128 promised)
    {
        Proposals memory proposals = _proposals;
        uint256 epoch = epochRoot.epoch;
        if (epoch != proposals.nextEpoch) revert EpochOutOfOrder(epoch, proposals.nextEpoch);
        (uint256 length, uint256 genesis) = params.epochSchedule();
        uint256 closesAt = genesis + (epoch + 1) * length;
        if (block.timestamp < closesAt) revert EpochNotClosed(epoch, closesAt);
        uint256 budget = params.getParameter("epochEmissionBudget");
        if (epochRoot.total > budget) revert EpochBudgetExceeded(epoch, epochRoot.total, budget);
        _requireQuorum(epochRootDigest(epochRoot), signatures);
        (, uint256 pending) = _schedule();
        uint256 required = pending + epochRoot.total;
        uint256 available = pod.balanceOf(address(this));
        if (available < required) revert PoolUnderfunded(required, available);
        return proposals.promised;
    }

    /// @dev When a root proposed now for `epoch` becomes claimable: after the challenge window and
    /// never before the previous root, so roots become claimable in epoch order even if the window
    /// was shortened in between.
    function _claimableAt(uint256 epoch) private view returns (uint40) {
        uint256 claimableAt = block.timestamp + params.getParameter("rootChallengeWindow");
        if (epoch != 0) {
            uint256 previous = _records[epoch - 1].claimableAt;
            if (previous > claimableAt) claimableAt = previous;
        }
        return claimableAt.toUint40();
    }

    /// @dev `claimable`: the latest claimable epoch plus one (0 if none); `pending`: the totals
    /// of the roots after it, not yet claimable. Walks back over the pending roots only.
    function _schedule() private view returns (uint256 claimable, uint256 pending) {
        claimable = _proposals.nextEpoch;
        while (claimable != 0) {
            EpochRecord storage r = _records[claimable - 1];
            if (r.claimableAt <= block.timestamp) break;
            pending += r.total;
            --claimable;
        }
    }

    /// @dev Reverts a claim whose proof leads to no root paying now, with the error a claim
    /// against the latest claimable root would meet.
    function _refuseProof(address account, uint256 cumulative) private view {
        (uint256 claimable,) = _schedule();
        if (claimable == 0) revert NoClaimableRoot();
        revert InvalidProof(account, cumulative, claimable - 1);
    }

    /// @dev Makes `root`, the root of `epoch` that survived a revocation, pay again with no end.
    /// `promised`: the totals of roots up to `epoch`.
    function _reopen(bytes32 root, uint256 epoch, uint128 promised) private {
        RootWindow storage window = _windows[root];
        if (window.from != 0 && window.epoch <= epoch) {
            window.until = OPEN;
            return;
        }
        // A revoked later epoch reused the root (never, for growing cumulative trees), restarting
        // or deleting its window: rebuild it from `epoch`'s record (claimable times fit 40 bits).
        _windows[root] = RootWindow({
            from: uint40(_records[epoch].claimableAt), until: OPEN, epoch: uint48(epoch), promised: promised
        });
    }

    /// @dev Reverts unless `signatures` are from at least a quorum of distinct oracles, in
    /// ascending signer order.
    function _requireQuorum(bytes32 digest, bytes[] calldata signatures) private view {
        uint256 quorum = _quorum;
        if (signatures.length < quorum) revert QuorumNotReached(signatures.length, quorum);
        address previous;
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = ECDSA.recover(digest, signatures[i]);
            if (!_isOracle[signer]) revert NotOracle(signer);
            if (signer <= previous) revert SignersNotAscending(signer, previous);
            previous = signer;
        }
    }

    function _setOracles(address[] memory oracles_, uint256 quorum_) private {
        uint256 size = oracles_.length;
        if (size == 0 || quorum_ == 0 || quorum_ > size) revert InvalidOracleSet(size, quorum_);
        for (uint256 i = 0; i < _oracleList.length; ++i) {
            _isOracle[_oracleList[i]] = false;
        }
        for (uint256 i = 0; i < size; ++i) {
            address oracle = oracles_[i];
            if (oracle == address(0) || _isOracle[oracle]) revert InvalidOracleSet(size, quorum_);
            _isOracle[oracle] = true;
        }
        _oracleList = oracles_;
        _quorum = quorum_;
        emit OracleSetChanged(oracles_, quorum_);
    }

    /// @dev Stakes `assets` of the pool's POD into sPOD and bonds the shares to `account`.
    function _bondFor(address account, uint256 assets) private {
        pod.forceApprove(address(stakedPod), assets);
        uint256 shares = stakedPod.deposit(assets, address(this));
        bondManager.bondFor(account, shares);
    }
}
