import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { ContractFuture, IgnitionModuleBuilder, ModuleParameterRuntimeValue } from "@nomicfoundation/ignition-core";
import { keccak256, toHex, zeroAddress, zeroHash } from "viem";
import PodCore from "./PodCore.ts";

const role = (name: string) => keccak256(toHex(name));

/**
 * The whole protocol: the staking core (PodCore) plus settlement: the node registry, the rewards
 * distributor (which holds the node rewards pool), the buyback, the credit vault, node reports
 * and slashing, and a security timelock. When it finishes, the governance timelock owns or
 * administers every contract, the security timelock may confirm reports and suspend nodes, the
 * guardian may revoke pending reward roots, and the deployer keeps no role.
 *
 * Parameters: stablecoin (required: the 6-decimal stablecoin accepted as credit beside POD),
 * oracles (required: the oracle keys' addresses) and oracleQuorum (default 1),
 * guardian and securityCouncil (default: the deployer), securityDelay (default 1 day),
 * rewardsPoolFunding (POD sent from the deployer to
 * the pool, default 0); all but oracles are optional. PodCore's parameters go under "PodCore".
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
  const guardian = m.getParameter("guardian", deployer);
  const securityCouncil = m.getParameter("securityCouncil", deployer);
  const securityDelay = m.getParameter("securityDelay", 86_400n);
  const rewardsPoolFunding = m.getParameter("rewardsPoolFunding", 0n);

  const securityTimelock = m.contract("PodTimelock", [securityDelay, [securityCouncil], [zeroAddress], zeroAddress], {
    id: "SecurityTimelock",
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
    deployer,
  ]);

  m.call(podToken, "transfer", [rewardsDistributor, rewardsPoolFunding], { id: "FundRewardsPool" });

  // Bonds: reports slash and bond reporter rewards; the distributor bonds claims.
  const bondGrants = [
    m.call(bondManager, "grantRole", [role("SLASHER_ROLE"), nodeReports], { id: "GrantSlasherToReports" }),
    m.call(bondManager, "grantRole", [role("BOND_FOR_ROLE"), nodeReports], { id: "GrantBondForToReports" }),
    m.call(bondManager, "grantRole", [role("BOND_FOR_ROLE"), rewardsDistributor], { id: "GrantBondForToRewards" }),
  ];
  m.call(bondManager, "renounceRole", [zeroHash, deployer], { id: "RenounceBondAdmin", after: bondGrants });

  // Registry: reports suspend and ban; both timelocks may too.
  const registryGrants = [nodeReports, timelock, securityTimelock].flatMap((holder, i) => [
    m.call(nodeRegistry, "grantRole", [role("SUSPENDER_ROLE"), holder], { id: `GrantSuspender${i}` }),
    m.call(nodeRegistry, "grantRole", [role("BANNER_ROLE"), holder], { id: `GrantBanner${i}` }),
  ]);
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
