/** The ABI of each indexed contract, by the name the config and the deployment use. */
import {
  bondManagerAbi, buybackAbi, creditVaultAbi, nodeRegistryAbi, nodeReportsAbi, podGovernorAbi, podTimelockAbi,
  podTokenAbi, protocolParamsAbi, rewardsDistributorAbi, stakedPodAbi,
} from "../../sdk/src/abi/contracts.ts";
import type { IndexedContract } from "./settings.ts";

export const INDEXED_ABIS = {
  PodToken: podTokenAbi,
  StakedPod: stakedPodAbi,
  BondManager: bondManagerAbi,
  NodeRegistry: nodeRegistryAbi,
  NodeReports: nodeReportsAbi,
  CreditVault: creditVaultAbi,
  Buyback: buybackAbi,
  RewardsDistributor: rewardsDistributorAbi,
  ProtocolParams: protocolParamsAbi,
  PodGovernor: podGovernorAbi,
  PodTimelock: podTimelockAbi,
} as const satisfies Record<IndexedContract, readonly unknown[]>;

/** "Contract:Event" for every event of every indexed contract. */
export function indexedEventNames(): string[] {
  const names: string[] = [];
  for (const [contract, abi] of Object.entries(INDEXED_ABIS)) {
    for (const item of abi as readonly { type: string; name?: string }[]) if (item.type === "event" && item.name) names.push(`${contract}:${item.name}`);
  }
  return names;
}
