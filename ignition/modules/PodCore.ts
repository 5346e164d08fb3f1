import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { keccak256, toHex, zeroAddress, zeroHash } from "viem";

const POD = 10n ** 18n;
const role = (name: string) => keccak256(toHex(name));

/**
 * The staking core, wired: POD, the parameters, staked POD, bonds, the timelock and the
 * governor. When it finishes, the timelock owns the parameters and the vault and administers
 * the bond manager and the timelock itself. The deployer still administers the bond manager,
 * so that PodNetwork can grant the settlement contracts their roles; deploy PodNetwork, which
 * renounces it, rather than this module alone.
 *
 * Parameters (all optional): supply, treasury, timelockDelay, votingDelay, votingPeriod,
 * proposalThreshold, quorumPercent, epochGenesis (0 = deployment time), and paramNames /
 * paramValues to start ProtocolParams away from its defaults (e.g. a devnet's short epochs).
 */
export default buildModule("PodCore", (m) => {
  const deployer = m.getAccount(0);
  const treasury = m.getParameter("treasury", deployer);
  const supply = m.getParameter("supply", 1_000_000_000n * POD);
  const timelockDelay = m.getParameter("timelockDelay", 2n * 86_400n);
  const votingDelay = m.getParameter("votingDelay", 86_400n);
  const votingPeriod = m.getParameter("votingPeriod", 7n * 86_400n);
  const proposalThreshold = m.getParameter("proposalThreshold", 100_000n * POD);
  const quorumPercent = m.getParameter("quorumPercent", 4n);
  const epochGenesis = m.getParameter("epochGenesis", 0n);
  const paramNames = m.getParameter<string[]>("paramNames", []);
  const paramValues = m.getParameter<bigint[]>("paramValues", []);

  const timelock = m.contract("PodTimelock", [timelockDelay, [], [zeroAddress], deployer]);
  const podToken = m.contract("PodToken", [treasury, supply]);
  const protocolParams = m.contract("ProtocolParams", [timelock, epochGenesis, paramNames, paramValues]);
  const stakedPod = m.contract("StakedPod", [podToken, protocolParams, deployer]);
  const bondManager = m.contract("BondManager", [stakedPod, protocolParams, deployer]);
  const governor = m.contract("PodGovernor", [
    podToken,
    stakedPod,
    timelock,
    votingDelay,
    votingPeriod,
    proposalThreshold,
    quorumPercent,
  ]);

  const wired = m.call(stakedPod, "setBondManager", [bondManager]);
  const vaultOwned = m.call(stakedPod, "transferOwnership", [timelock], { after: [wired] });

  const slasher = m.call(bondManager, "grantRole", [role("SLASHER_ROLE"), timelock], { id: "GrantSlasherToTimelock" });
  const bondAdmin = m.call(bondManager, "grantRole", [zeroHash, timelock], { id: "GrantBondAdminToTimelock" });

  const proposer = m.call(timelock, "grantRole", [role("PROPOSER_ROLE"), governor], { id: "GrantProposer" });
  const canceller = m.call(timelock, "grantRole", [role("CANCELLER_ROLE"), governor], { id: "GrantCanceller" });
  m.call(timelock, "renounceRole", [zeroHash, deployer], {
    id: "RenounceTimelockAdmin",
    after: [proposer, canceller, vaultOwned, slasher, bondAdmin],
  });

  return { podToken, protocolParams, stakedPod, bondManager, timelock, governor };
});
