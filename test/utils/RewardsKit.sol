// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {CommonBase} from "forge-std/Base.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {PodToken} from "../../contracts/token/PodToken.sol";
import {StakedPod} from "../../contracts/staking/StakedPod.sol";
import {BondManager} from "../../contracts/staking/BondManager.sol";
import {ProtocolParams} from "../../contracts/governance/ProtocolParams.sol";
import {RewardsDistributor} from "../../contracts/settlement/RewardsDistributor.sol";
import {IProtocolParams} from "../../contracts/interfaces/IProtocolParams.sol";
import {IStakedPod} from "../../contracts/interfaces/IStakedPod.sol";
import {IBondManager} from "../../contracts/interfaces/IBondManager.sol";
import {IRewardsDistributor} from "../../contracts/interfaces/IRewardsDistributor.sol";

/// @dev Cumulative-reward trees of exactly four accounts (two levels, sorted pairs), the
/// on-chain counterpart of oracle-workers' CumulativeRewardTree for Solidity tests.
library FourLeafTree {
    function leaf(address account, uint256 cumulative) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, cumulative))));
    }

    function leaves(address[4] memory accounts, uint256[4] memory cumulatives) internal pure returns (bytes32[4] memory l) {
        for (uint256 i = 0; i < 4; ++i) {
            l[i] = leaf(accounts[i], cumulatives[i]);
        }
    }

    function root(bytes32[4] memory l) internal pure returns (bytes32) {
        return Hashes.commutativeKeccak256(Hashes.commutativeKeccak256(l[0], l[1]), Hashes.commutativeKeccak256(l[2], l[3]));
    }

    function proof(bytes32[4] memory l, uint256 index) internal pure returns (bytes32[] memory p) {
        p = new bytes32[](2);
        p[0] = l[index ^ 1];
        uint256 pair = (index >> 1) ^ 1;
        p[1] = Hashes.commutativeKeccak256(l[2 * pair], l[2 * pair + 1]);
    }
}

/// @dev Three oracle keys (quorum 2) that sign and propose epoch roots.
abstract contract RewardsSigner is CommonBase {
    uint256[3] internal oracleKeys = [uint256(0xA11), 0xB22, 0xC33];

    function _oracles() internal view returns (address[] memory oracles) {
        oracles = new address[](3);
        for (uint256 i = 0; i < 3; ++i) {
            oracles[i] = vm.addr(oracleKeys[i]);
        }
    }

    /// @dev Signatures of two oracles, in ascending signer order.
    function _sign(IRewardsDistributor distributor, IRewardsDistributor.EpochRoot memory epochRoot)
        internal
        view
        returns (bytes[] memory signatures)
    {
        bytes32 digest = distributor.epochRootDigest(epochRoot);
        (uint256 first, uint256 second) = (oracleKeys[0], oracleKeys[1]);
        if (vm.addr(first) > vm.addr(second)) (first, second) = (second, first);
        signatures = new bytes[](2);
        signatures[0] = _signature(first, digest);
        signatures[1] = _signature(second, digest);
    }

    function _signature(uint256 key, bytes32 digest) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev Proposes `root` for `epoch` with the oracles' signatures, at the epoch's close or now.
    function _proposeTo(IRewardsDistributor distributor, IProtocolParams params_, uint256 epoch, bytes32 root, uint256 total)
        internal
    {
        IRewardsDistributor.EpochRoot memory epochRoot = IRewardsDistributor.EpochRoot({
            epoch: epoch, root: root, total: total, reportHash: keccak256(abi.encode(epoch)), validatorsRoot: bytes32(0)
        });
        (uint256 length, uint256 genesis) = params_.epochSchedule();
        uint256 closesAt = genesis + (epoch + 1) * length;
        if (block.timestamp < closesAt) vm.warp(closesAt);
        distributor.proposeRoot(epochRoot, _sign(distributor, epochRoot));
    }
}

/// @dev Deploys the staking core and a RewardsDistributor administered by this contract, with a
/// funded pool.
abstract contract RewardsKit is RewardsSigner {
    uint256 internal constant SUPPLY = 1e9 ether;
    uint256 internal constant POOL = 100_000_000 ether;

    PodToken internal pod;
    ProtocolParams internal params;
    StakedPod internal vault;
    BondManager internal bonds;
    RewardsDistributor internal rd;

    function _deployRewards() internal {
        params = new ProtocolParams(address(this), 0, new bytes32[](0), new uint256[](0));
        pod = new PodToken(address(this), SUPPLY);
        vault = new StakedPod(pod, IProtocolParams(address(params)), address(this));
        bonds = new BondManager(IStakedPod(address(vault)), IProtocolParams(address(params)), address(this));
        vault.setBondManager(address(bonds));
        rd = new RewardsDistributor(
            pod, IStakedPod(address(vault)), IBondManager(address(bonds)), IProtocolParams(address(params)), address(this), _oracles(), 2
        );
        bonds.grantRole(bonds.BOND_FOR_ROLE(), address(rd));
        pod.transfer(address(rd), POOL);
    }

    function _propose(uint256 epoch, bytes32 root, uint256 total) internal {
        _proposeTo(rd, params, epoch, root, total);
    }
}
