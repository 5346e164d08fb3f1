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
import {IStakedPod} from "../interfaces/IStakedPod.sol";
import {IBondManager} from "../interfaces/IBondManager.sol";
import {IProtocolParams} from "../interfaces/IProtocolParams.sol";

/// @title RewardsDistributor
/// @notice Holds the node rewards pool and pays cumulative rewards from oracle-signed epoch roots.
/// @dev Roots advance one epoch at a time. Their claimable times never decrease, so the claimable
/// root is always a prefix boundary: epochs below `_claims.accepted` are claimable and the claim
/// path advances that boundary lazily, reading one packed slot and the claimable root.
/// Pool accounting: `_claims.unclaimed` is what claimable roots promise beyond what was claimed;
/// `_proposals.pending` what the not-yet-accepted roots promise. The pool's POD always covers
/// both (checked when a root is proposed; claims, bonuses and reporter pay keep it).
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

    IERC20 public immutable pod;
    IStakedPod public immutable stakedPod;
    IBondManager public immutable bondManager;
    IProtocolParams public immutable params;

    /// @dev The claim path's one slot. `accepted`: epochs [0, accepted) are claimable (lazily
    /// advanced); `nextClaimableAt`: the claimable time of root `accepted`, 0 if none is proposed;
    /// `unclaimed`: totals of accepted roots minus everything claimed.
    struct Claims {
        uint64 accepted;
        uint64 nextClaimableAt;
        uint128 unclaimed;
    }

    /// @dev `nextEpoch`: the epoch to propose next; `pending`: totals of roots [accepted, nextEpoch).
    struct Proposals {
        uint64 nextEpoch;
        uint128 pending;
    }

    Claims private _claims;
    Proposals private _proposals;
    mapping(uint256 epoch => EpochRecord) private _records;
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
        uint128 pending = _checkProposal(epochRoot, signatures);
        uint256 epoch = epochRoot.epoch;
        uint64 claimableAt = _claimableAt(epoch);
        uint128 total = epochRoot.total.toUint128();
        _records[epoch] = EpochRecord({
            root: epochRoot.root,
            reportHash: epochRoot.reportHash,
            validatorsRoot: epochRoot.validatorsRoot,
            total: total,
            claimableAt: claimableAt,
            status: RootStatus.Proposed
        });
        _proposals = Proposals({nextEpoch: uint64(epoch + 1), pending: pending + total});
        if (epoch == _claims.accepted) _claims.nextClaimableAt = claimableAt;
        emit RootProposed(
            epoch,
            epochRoot.root,
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
        uint128 revoked;
        for (uint256 e = epoch; e < proposals.nextEpoch; ++e) {
            EpochRecord storage r = _records[e];
            r.status = RootStatus.Revoked;
            revoked += r.total;
            emit RootRevoked(e, msg.sender);
        }
        _proposals = Proposals({nextEpoch: uint64(epoch), pending: proposals.pending - revoked});
        // A revocable root is never accepted, so `epoch >= accepted`.
        if (epoch == _claims.accepted) _claims.nextClaimableAt = 0;
    }

    // ---------------------------------------------------------------- claims

    /// @inheritdoc IRewardsDistributor
    function claim(address account, uint256 cumulative, bytes32[] calldata proof, bool asBonded)
        external
        returns (uint256 amount)
    {
        Claims memory claims = _claims;
        if (claims.nextClaimableAt != 0 && claims.nextClaimableAt <= block.timestamp) claims = _accept(claims);
        if (claims.accepted == 0) revert NoClaimableRoot();
        uint256 epoch = claims.accepted - 1;
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulative))));
        if (!MerkleProof.verifyCalldata(proof, _records[epoch].root, leaf)) {
            revert InvalidProof(account, cumulative, epoch);
        }
        uint256 prior = _claimed[account];
        if (cumulative <= prior) revert NothingToClaim(account, cumulative, prior);
        unchecked {
            amount = cumulative - prior; // cumulative > prior
        }
        if (amount > claims.unclaimed) revert ClaimExceedsRootTotals(amount, claims.unclaimed);

        _claimed[account] = cumulative;
        unchecked {
            claims.unclaimed -= uint128(amount); // amount <= unclaimed
        }
        _claims = claims;
        if (!asBonded) {
            emit RewardsClaimed(account, cumulative, amount, 0, false, epoch);
            pod.safeTransfer(account, amount);
            return amount;
        }
        uint256 bonus = amount * params.getParameter("bondedClaimBonusPpm") / PPM;
        // The bonus comes from the surplus; paying `amount` left the surplus unchanged.
        uint256 outstanding = uint256(claims.unclaimed) + _proposals.pending;
        uint256 available = pod.balanceOf(address(this)) - amount;
        if (available < outstanding + bonus) revert PoolUnderfunded(outstanding + bonus, available);
        emit RewardsClaimed(account, cumulative, amount, bonus, true, epoch);
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
        uint256 accepted = _acceptedNow();
        if (accepted == 0) return (false, 0, record);
        return (true, accepted - 1, _records[accepted - 1]);
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
        uint256 accepted = _acceptedNow();
        if (accepted == 0) return false;
        bytes32 root = _records[accepted - 1].validatorsRoot;
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
        uint256 outstanding = uint256(_claims.unclaimed) + _proposals.pending;
        uint256 balance = pod.balanceOf(address(this));
        return balance > outstanding ? balance - outstanding : 0;
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

    /// @dev Reverts unless `epochRoot` may be proposed now with `signatures`; returns the pending total.
    function _checkProposal(EpochRoot calldata epochRoot, bytes[] calldata signatures)
        private
        view
        returns (uint128 pending)
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
        uint256 required = uint256(_claims.unclaimed) + proposals.pending + epochRoot.total;
        uint256 available = pod.balanceOf(address(this));
        if (available < required) revert PoolUnderfunded(required, available);
        return proposals.pending;
    }

    /// @dev When a root proposed now for `epoch` becomes claimable: after the challenge window and
    /// never before the previous root, so roots become claimable in epoch order even if the window
    /// was shortened in between.
    function _claimableAt(uint256 epoch) private view returns (uint64) {
        uint256 claimableAt = block.timestamp + params.getParameter("rootChallengeWindow");
        if (epoch != 0) {
            uint256 previous = _records[epoch - 1].claimableAt;
            if (previous > claimableAt) claimableAt = previous;
        }
        return claimableAt.toUint64();
    }

    /// @dev Moves every root whose window has passed from pending to accepted, in `claims` (the
    /// caller stores it) and in `_proposals`.
    function _accept(Claims memory claims) private returns (Claims memory) {
        uint128 moved;
        while (claims.nextClaimableAt != 0 && claims.nextClaimableAt <= block.timestamp) {
            moved += _records[claims.accepted].total;
            EpochRecord storage next = _records[++claims.accepted];
            claims.nextClaimableAt = next.status == RootStatus.Proposed ? next.claimableAt : 0;
        }
        claims.unclaimed += moved;
        _proposals.pending -= moved;
        return claims;
    }

    /// @dev The accepted boundary as of now, without storing it.
    function _acceptedNow() private view returns (uint256 accepted) {
        accepted = _claims.accepted;
        while (true) {
            EpochRecord storage r = _records[accepted];
            if (r.status != RootStatus.Proposed || r.claimableAt > block.timestamp) return accepted;
            ++accepted;
        }
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
