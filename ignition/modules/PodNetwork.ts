import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { ContractFuture, IgnitionModuleBuilder, ModuleParameterRuntimeValue } from "@nomicfoundation/ignition-core";
import { keccak256, toHex, zeroAddress, zeroHash } from "viem";
import PodCore from "./PodCore.ts";

const role = (name: string) => keccak256(toHex(name));

/**
 * The whole protocol: the staking core (PodCore) plus settlement: the node registry, the rewards
 * distributor (which holds the node rewards pool), the buyback, the credit vault, node reports
 * and slashing, and a security timelock. When it finishes, the governance timelock owns or
 * administers every contract and may cancel the security timelock's operations; the security
 * timelock may confirm or dismiss reports and suspend nodes, but never ban (bans are for good:
 * only governance and confirmed reports ban); the guardian may revoke pending reward roots; and
 * the deployer keeps no role.
 *
 * Required parameters: stablecoin (the 6-decimal stablecoin accepted as credit beside POD),
 * oracles (the oracle keys' addresses), guardian and securityCouncil (no default, so that the
 * deployer is never left holding them). Optional: oracleQuorum (default 1), securityDelay
 * (default 1 day), reportsToSuspend (open reports from distinct validators that suspend a node,
 * default 2), rewardsPoolFunding (POD sent from the deployer to the pool, default 0). PodCore's
 * parameters go under "PodCore".
 */
export default buildModule("PodNetwork", (m) => buildNetwork(m, m.getParameter<string>("stablecoin")));

/** PodNetwork's body, shared with PodDevnet, which deploys its own stablecoin first. */
export function buildNetwork(
  m: IgnitionModuleBuilder,
  stablecoin: ModuleParameterRuntimeValue<string> | ContractFuture<string>,
) {
  const core = m.useModule(PodCore);
  const { podToken, protocolParams, stakedPod, bondManager, timelock } = core;
  const deployer = m.getAccount(0);
  const oracles = m.getParameter<string[]>("oracles");
  const oracleQuorum = m.getParameter("oracleQuorum", 1n);
  const guardian = m.getParameter<string>("guardian");
  const securityCouncil = m.getParameter<string>("securityCouncil");
  const securityDelay = m.getParameter("securityDelay", 86_400n);
  const reportsToSuspend = m.getParameter("reportsToSuspend", 2n);
  const rewardsPoolFunding = m.getParameter("rewardsPoolFunding", 0n);

  // The deployer administers the security timelock only long enough to make governance a canceller.
  const securityTimelock = m.contract("PodTimelock", [securityDelay, [securityCouncil], [zeroAddress], deployer], {
    id: "SecurityTimelock",
  });
  const securityCanceller = m.call(securityTimelock, "grantRole", [role("CANCELLER_ROLE"), timelock], {
    id: "GrantSecurityCancellerToTimelock",
  });
  m.call(securityTimelock, "renounceRole", [zeroHash, deployer], {
    id: "RenounceSecurityTimelockAdmin",
    after: [securityCanceller],
  });
  const nodeRegistry = m.contract("NodeRegistry", [deployer]);
  const rewardsDistributor = m.contract("RewardsDistributor", [
    podToken,
    stakedPod,
    bondManager,
    protocolParams,
    deployer,
    oracles,
    oracleQuorum,
  ]);
  const buyback = m.contract("Buyback", [podToken, stakedPod, protocolParams, rewardsDistributor, timelock]);
  const creditVault = m.contract("CreditVault", [protocolParams, buyback, timelock, [podToken, stablecoin]]);
  const nodeReports = m.contract("NodeReports", [
    nodeRegistry,
    bondManager,
    rewardsDistributor,
    stakedPod,
    protocolParams,
    buyback,
    reportsToSuspend,
    deployer,
  ]);

  m.call(podToken, "transfer", [rewardsDistributor, rewardsPoolFunding], { id: "FundRewardsPool" });

  // Bonds: reports slash, bond reporter rewards and freeze reported accounts; the distributor bonds claims.
  const bondGrants = [
    m.call(bondManager, "grantRole", [role("SLASHER_ROLE"), nodeReports], { id: "GrantSlasherToReports" }),
    m.call(bondManager, "grantRole", [role("BOND_FOR_ROLE"), nodeReports], { id: "GrantBondForToReports" }),
    m.call(bondManager, "grantRole", [role("FREEZER_ROLE"), nodeReports], { id: "GrantFreezerToReports" }),
    m.call(bondManager, "grantRole", [role("BOND_FOR_ROLE"), rewardsDistributor], { id: "GrantBondForToRewards" }),
  ];
  m.call(bondManager, "renounceRole", [zeroHash, deployer], { id: "RenounceBondAdmin", after: bondGrants });

  // Registry: reports and governance suspend and ban; the security timelock only suspends.
  const registryGrants = [
    ...[nodeReports, timelock, securityTimelock].map((holder, i) =>
      m.call(nodeRegistry, "grantRole", [role("SUSPENDER_ROLE"), holder], { id: `GrantSuspender${i}` }),
    ),
    ...[nodeReports, timelock].map((holder, i) =>
      m.call(nodeRegistry, "grantRole", [role("BANNER_ROLE"), holder], { id: `GrantBanner${i}` }),
    ),
  ];
  const registryAdmin = m.call(nodeRegistry, "grantRole", [zeroHash, timelock], { id: "GrantRegistryAdmin" });
  m.call(nodeRegistry, "renounceRole", [zeroHash, deployer], {
    id: "RenounceRegistryAdmin",
    after: [...registryGrants, registryAdmin],
  });

  // Rewards: reports pay unbonded-node reporters from the pool; the guardian revokes bad roots.
  const rewardsGrants = [
    m.call(rewardsDistributor, "grantRole", [role("POOL_SPENDER_ROLE"), nodeReports], { id: "GrantPoolSpender" }),
    m.call(rewardsDistributor, "grantRole", [role("GUARDIAN_ROLE"), guardian], { id: "GrantGuardian" }),
    m.call(rewardsDistributor, "grantRole", [zeroHash, timelock], { id: "GrantRewardsAdmin" }),
  ];
  m.call(rewardsDistributor, "renounceRole", [zeroHash, deployer], {
    id: "RenounceRewardsAdmin",
    after: rewardsGrants,
  });

  // Reports: governance and the security timelock confirm or dismiss.
  const reportsGrants = [
    m.call(nodeReports, "grantRole", [role("CONFIRMER_ROLE"), timelock], { id: "GrantConfirmerToTimelock" }),
    m.call(nodeReports, "grantRole", [role("CONFIRMER_ROLE"), securityTimelock], { id: "GrantConfirmerToSecurity" }),
    m.call(nodeReports, "grantRole", [zeroHash, timelock], { id: "GrantReportsAdmin" }),
  ];
  m.call(nodeReports, "renounceRole", [zeroHash, deployer], { id: "RenounceReportsAdmin", after: reportsGrants });

  return { ...core, securityTimelock, nodeRegistry, rewardsDistributor, buyback, creditVault, nodeReports };
}
