/**
 * Epoch reports and on-chain proposals for the indexer's tests: a canonical report (the SDK's
 * format) for given rewards on top of previous cumulatives, its root signed by the oracle key
 * (the deployer is the only oracle of startLocalChain) and proposed on the real distributor.
 */
import { getAddress, type Address, type Hex, zeroHash } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { DROP_REASONS, epochReportHash, serializeEpochReport, type EpochReport, type DropReason } from "../../sdk/src/epochReport.ts";
import { CumulativeRewardTree, EMPTY_ROOT } from "../../sdk/src/merkle/tree.ts";
import { DEFAULT_REWARD_PARAMS } from "../../sdk/src/rewardParams.ts";
import { EPOCH_ROOT_TYPES, settlementDomain, type EpochRoot } from "../../sdk/src/typedData.ts";

/** Hardhat's account #0: the deployer, and the oracle in startLocalChain. */
export const ORACLE = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");

export type BuiltReport = { report: EpochReport; json: string; hash: Hex; cumulatives: Map<Address, bigint> };

type ReportContracts = EpochReport["contracts"];

/**
 * The report of `epoch` paying `rewards` on top of `previous` cumulatives. `tamper` rewrites one
 * account's reward in the accounts list after the leaves, root and total are computed.
 */
export function buildReport(options: {
  chainId: number;
  epoch: number;
  contracts: ReportContracts;
  previousRoot?: Hex;
  previous?: ReadonlyMap<Address, bigint>;
  rewards: ReadonlyMap<Address, bigint>;
  tamper?: { account: Address; reward: bigint };
}): BuiltReport {
  const previous = options.previous ?? new Map<Address, bigint>();
  const cumulatives = new Map(previous);
  for (const [account, reward] of options.rewards) cumulatives.set(account, (cumulatives.get(account) ?? 0n) + reward);
  const sorted = [...cumulatives.keys()].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
  const leaves = sorted.filter((a) => (cumulatives.get(a) ?? 0n) > 0n).map((account) => ({ account: getAddress(account), cumulative: cumulatives.get(account) ?? 0n }));
  const tree = CumulativeRewardTree.build(leaves.map((l) => ({ account: l.account, cumulativeReward: l.cumulative })));
  const total = [...options.rewards.values()].reduce((s, r) => s + r, 0n);
  const accounts = [...options.rewards.keys()].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)).map((account) => {
    const reward = options.tamper && options.tamper.account === account ? options.tamper.reward : (options.rewards.get(account) ?? 0n);
    return {
      account: getAddress(account), work: 1000n, base: reward, bond: 0n, registered: true, suspended: false,
      multiplierPpm: 1_000_000, nextMultiplierPpm: 1_000_000, reward, cumulative: cumulatives.get(account) ?? 0n, validator: false, boostEligible: false,
    };
  });
  const dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  const report: EpochReport = {
    version: 1,
    chainId: options.chainId,
    epoch: options.epoch,
    closesAt: 0n,
    closingBlock: { number: 1n, hash: `0x${"11".repeat(32)}`, timestamp: 0n },
    contracts: options.contracts,
    previousRoot: options.previousRoot ?? EMPTY_ROOT,
    inputsDigest: zeroHash,
    inputDigests: { receipts: zeroHash, invalidations: zeroHash, chain: zeroHash },
    params: { ...DEFAULT_REWARD_PARAMS, emissionBudget: 1_000_000n * 10n ** 18n, baseBudget: total, modelWeights: [] },
    receipts: { accepted: accounts.length, dropped, droppedReceipts: [], droppedReceiptsOmitted: 0 },
    accounts,
    total,
    root: tree.root,
    validatorsRoot: zeroHash,
    validators: [],
    leaves,
  };
  const json = serializeEpochReport(report);
  return { report, json, hash: epochReportHash(json), cumulatives };
}

/** The oracle's EIP-712 signature of `epochRoot` for `distributor`. */
export function signRoot(epochRoot: EpochRoot, chainId: number, distributor: Address): Promise<Hex> {
  return ORACLE.signTypedData({ domain: settlementDomain("rewardsDistributor", chainId, distributor), types: EPOCH_ROOT_TYPES, primaryType: "EpochRoot", message: epochRoot });
}

export function epochRootOf(epoch: number, built: BuiltReport, reportHash: Hex = built.hash): EpochRoot {
  return { epoch: BigInt(epoch), root: built.report.root, total: built.report.total, reportHash, validatorsRoot: built.report.validatorsRoot };
}
