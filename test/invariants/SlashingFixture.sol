// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {PodTest} from "../utils/PodTest.sol";
import {PodToken} from "../../contracts/token/PodToken.sol";
import {StakedPod} from "../../contracts/staking/StakedPod.sol";
import {BondManager} from "../../contracts/staking/BondManager.sol";
import {ProtocolParams} from "../../contracts/governance/ProtocolParams.sol";
import {NodeRegistry} from "../../contracts/settlement/NodeRegistry.sol";
import {NodeReports} from "../../contracts/settlement/NodeReports.sol";
import {RewardsDistributor} from "../../contracts/settlement/RewardsDistributor.sol";
import {Buyback} from "../../contracts/settlement/Buyback.sol";
import {IProtocolParams} from "../../contracts/interfaces/IProtocolParams.sol";
import {IStakedPod} from "../../contracts/interfaces/IStakedPod.sol";
import {IBondManager} from "../../contracts/interfaces/IBondManager.sol";
import {INodeRegistry} from "../../contracts/interfaces/INodeRegistry.sol";
import {IRewardsDistributor} from "../../contracts/interfaces/IRewardsDistributor.sol";

/// @dev The contracts that slashing touches, deployed and wired as PodNetwork wires them, with
/// this test as governance and confirmer, one oracle key and one validator (REPORTER).
abstract contract SlashingFixture is PodTest {
    uint256 internal constant SUPPLY = 1e9 ether;
    uint256 internal constant POOL = 1e6 ether;
    uint256 internal constant ORACLE_PK = 0x0A11CE;
    address internal constant REPORTER = address(0xB0B);
    /// @dev One reporter suspends: the handler's single validator exercises suspensions too.
    uint256 internal constant REPORTS_TO_SUSPEND = 1;

    PodToken internal pod;
    ProtocolParams internal params;
    StakedPod internal vault;
    BondManager internal bonds;
    NodeRegistry internal registry;
    RewardsDistributor internal distributor;
    Buyback internal buyback;
    NodeReports internal reports;
    uint256 private _nextKeyPk = 0x5EED;

    function _deploy() internal {
        bytes32[] memory names = new bytes32[](2);
        uint256[] memory values = new uint256[](2);
        (names[0], values[0]) = ("epochLength", 3600);
        (names[1], values[1]) = ("rootChallengeWindow", 600);
        params = new ProtocolParams(address(this), 0, names, values);
        pod = new PodToken(address(this), SUPPLY);
        IProtocolParams p = IProtocolParams(address(params));
        vault = new StakedPod(pod, p, address(this));
        bonds = new BondManager(IStakedPod(address(vault)), p, address(this));
        vault.setBondManager(address(bonds));
        registry = new NodeRegistry(address(this));
        address[] memory oracles = new address[](1);
        oracles[0] = vm.addr(ORACLE_PK);
        distributor = new RewardsDistributor(pod, IStakedPod(address(vault)), IBondManager(address(bonds)), p, address(this), oracles, 1);
        buyback = new Buyback(pod, IStakedPod(address(vault)), p, address(distributor), address(this));
        reports = new NodeReports(
            INodeRegistry(address(registry)),
            IBondManager(address(bonds)),
            IRewardsDistributor(address(distributor)),
            IStakedPod(address(vault)),
            p,
            address(buyback),
            REPORTS_TO_SUSPEND,
            address(this)
        );
        bonds.grantRole(bonds.SLASHER_ROLE(), address(reports));
        bonds.grantRole(bonds.BOND_FOR_ROLE(), address(reports));
        bonds.grantRole(bonds.FREEZER_ROLE(), address(reports));
        bonds.grantRole(bonds.BOND_FOR_ROLE(), address(distributor));
        registry.grantRole(registry.SUSPENDER_ROLE(), address(reports));
        registry.grantRole(registry.BANNER_ROLE(), address(reports));
        distributor.grantRole(distributor.POOL_SPENDER_ROLE(), address(reports));
        reports.grantRole(reports.CONFIRMER_ROLE(), address(this));
        pod.transfer(address(distributor), POOL);
        _acceptReporter();
    }

    /// @dev Epoch 0's root lists REPORTER alone, so its leaf is the root and its proof is empty.
    function _acceptReporter() private {
        IRewardsDistributor.EpochRoot memory root = IRewardsDistributor.EpochRoot({
            epoch: 0,
            root: keccak256("no rewards"),
            total: 0,
            reportHash: keccak256("report 0"),
            validatorsRoot: keccak256(bytes.concat(keccak256(abi.encode(REPORTER))))
        });
        (uint256 length, uint256 genesis) = params.epochSchedule();
        vm.warp(genesis + length);
        bytes[] memory signatures = new bytes[](1);
        signatures[0] = _sign(ORACLE_PK, distributor.epochRootDigest(root));
        distributor.proposeRoot(root, signatures);
        vm.warp(block.timestamp + 600);
        require(distributor.isValidator(REPORTER, new bytes32[](0)), "reporter not eligible");
    }

    /// @dev Registers a fresh node key for `account`; returns the key.
    function _registerNode(address account) internal returns (address nodeKey) {
        uint256 pk = _nextKeyPk++;
        nodeKey = vm.addr(pk);
        bytes32[] memory models = new bytes32[](1);
        models[0] = "model";
        bytes memory proof = _sign(pk, registry.keyOwnershipDigest(account, nodeKey));
        vm.prank(account);
        registry.registerNode(nodeKey, models, "", proof);
    }

    /// @dev Stakes `assets` of `account`'s POD and bonds every share it gets.
    function _stakeAndBond(address account, uint256 assets) internal returns (uint256 shares) {
        pod.transfer(account, assets);
        vm.startPrank(account);
        pod.approve(address(vault), assets);
        shares = vault.deposit(assets, account);
        bonds.bond(shares);
        vm.stopPrank();
    }

    function _report(address nodeKey, bytes32 evidence) internal returns (uint256) {
        vm.prank(REPORTER);
        return reports.reportNode(nodeKey, evidence, new bytes32[](0));
    }

    function _sign(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }
}
