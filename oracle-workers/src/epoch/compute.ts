/**
 * One epoch's computation, a pure function of its inputs (signature checks may run in worker
 * threads; the result does not depend on it): screen the receipts, measure work, split the base
 * budget, close the epoch in the reward engine, build the trees and the canonical report.
 */
import type { Address, Hex } from "viem";
import { closeEpoch } from "../rewards/engine.ts";
import type { AccountEpochInput, AccountState } from "../rewards/state.ts";
import { CumulativeRewardTree } from "../../../sdk/src/merkle/tree.ts";
import { combinedInputsDigest, inputDigests } from "./digest.ts";
import { DROPPED_RECEIPTS_LISTED, DROP_REASONS, REPORT_VERSION, epochReportHash, serializeEpochReport, type EpochReport, type ReportAccount } from "../../../sdk/src/epochReport.ts";
import { screenReceipts, type AcceptedReceipt } from "./screen.ts";
import type { DropReason, EpochComputation, EpochComputationInput, OracleContracts, OracleState } from "./types.ts";
import { checksumAddress } from "../../../sdk/src/address.ts";
import { sortAddresses, validatorsRoot } from "./validators.ts";
import type { VerifyOptions } from "./verify.ts";
import { baseBudget, splitBase, workByAccount } from "./work.ts";

/** The inputs contradict each other (a bug upstream, not a bad receipt): nothing may be posted. */
export class EpochInputError extends Error {
  override readonly name = "EpochInputError";
}

function checkInputs(input: EpochComputationInput): void {
  const { chain, previous } = input;
  if (previous.epoch >= chain.epoch) throw new EpochInputError(`state is at epoch ${previous.epoch}, cannot close epoch ${chain.epoch}`);
  if (previous.accounts.size > 0 && previous.epoch !== chain.epoch - 1) {
    throw new EpochInputError(`state is at epoch ${previous.epoch}; epoch ${chain.epoch - 1} must be closed first`);
  }
  // One spelling per address, or the same account would be two accounts in the engine.
  for (const [what, addresses] of [["chain.accounts", chain.accounts.keys()], ["chain.nodes", chain.nodes.keys()], ["previous.accounts", previous.accounts.keys()]] as const) {
    for (const address of addresses) {
      if (checksumAddress(address) !== address) throw new EpochInputError(`${what}: ${address} is not in checksum form`);
    }
  }
}

/** Node keys per account: the previous ones plus those of accepted receipts, sorted, unique. */
function mergeNodeKeys(previous: ReadonlyMap<Address, readonly Address[]>, accepted: readonly AcceptedReceipt[]): Map<Address, readonly Address[]> {
  const sets = new Map<Address, Set<Address>>();
  for (const [account, keys] of previous) sets.set(account, new Set(keys));
  for (const receipt of accepted) {
    let keys = sets.get(receipt.account);
    if (keys === undefined) sets.set(receipt.account, (keys = new Set()));
    keys.add(receipt.node);
  }
  const merged = new Map<Address, readonly Address[]>();
  for (const [account, keys] of sets) merged.set(account, sortAddresses(keys));
  return merged;
}

/** The highest multiplier that can pay this epoch: the parameter, or a higher one frozen under older parameters. */
function highestMultiplierPpm(maxMultiplierPpm: number, states: ReadonlyMap<Address, AccountState>): number {
  let highest = maxMultiplierPpm;
  for (const state of states.values()) if (state.multiplierPpm > highest) highest = state.multiplierPpm;
  return highest;
}

function checksumContracts(contracts: OracleContracts): OracleContracts {
  const c = (address: Address) => checksumAddress(address) as Address;
  return {
    protocolParams: c(contracts.protocolParams), rewardsDistributor: c(contracts.rewardsDistributor), bondManager: c(contracts.bondManager),
    nodeRegistry: c(contracts.nodeRegistry), creditVault: c(contracts.creditVault), buyback: c(contracts.buyback),
  };
}

/**
 * Closes `input.chain.epoch` from `input.previous`. Same inputs (receipts in any order), same
 * bytes: reportJson, reportHash, roots and state.
 */
export async function computeEpoch(input: EpochComputationInput, options: { verify?: VerifyOptions } = {}): Promise<EpochComputation> {
  checkInputs(input);
  const { chain, previous } = input;
  const params = chain.params;
  const screening = await screenReceipts(input.receipts, {
    chain,
    invalidations: input.invalidations,
    ...(options.verify === undefined ? {} : { verify: options.verify }),
  });

  const work = workByAccount(screening.accepted);
  for (const account of work.keys()) {
    if (!chain.accounts.has(account)) throw new EpochInputError(`account ${account} did work but the chain state does not list it`);
  }
  const budget = baseBudget(chain.emissionBudget, highestMultiplierPpm(params.maxMultiplierPpm, previous.accounts));
  const bases = splitBase(budget, work);

  // Every account the chain state lists; known ones first (state order), new ones by address.
  const inputs: AccountEpochInput[] = [];
  const ordered = [...[...chain.accounts.keys()].filter((a) => previous.accounts.has(a)), ...sortAddresses([...chain.accounts.keys()].filter((a) => !previous.accounts.has(a)))];
  for (const account of ordered) {
    const atClose = chain.accounts.get(account)!;
    inputs.push({ account, base: bases.get(account) ?? 0n, bond: atClose.bond, registered: atClose.registered, suspended: atClose.suspended });
  }
  const close = closeEpoch(previous.accounts, inputs, params);

  const states = close.states as ReadonlyMap<Address, AccountState>;
  const outcomes = [...close.outcomes].sort((a, b) => (a.account.toLowerCase() < b.account.toLowerCase() ? -1 : 1));
  let total = 0n;
  const accounts: ReportAccount[] = outcomes.map((o) => {
    total += o.reward;
    const state = states.get(o.account as Address)!;
    return {
      account: o.account as Address, work: work.get(o.account as Address) ?? 0n, base: o.base, bond: state.lastBond,
      registered: state.lastRegistered, suspended: state.lastSuspended, multiplierPpm: o.multiplierPpm, nextMultiplierPpm: o.nextMultiplierPpm,
      reward: o.reward, cumulative: o.cumulativeReward, validator: o.validator, boostEligible: o.boostEligible,
    };
  });
  if (total > chain.emissionBudget) throw new EpochInputError(`total ${total} exceeds the emission budget ${chain.emissionBudget}`);

  const leaves = accounts.filter((a) => a.cumulative > 0n).map((a) => ({ account: a.account, cumulative: a.cumulative }));
  const root = CumulativeRewardTree.build(leaves.map((l) => ({ account: l.account, cumulativeReward: l.cumulative }))).root;
  const validators = accounts.filter((a) => a.validator).map((a) => a.account);
  const vRoot = validatorsRoot(validators);

  const dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  for (const d of screening.dropped) dropped[d.reason]++;
  const digests = inputDigests(screening.accepted, input.invalidations, chain);
  const report: EpochReport = {
    version: REPORT_VERSION,
    chainId: chain.chainId,
    epoch: chain.epoch,
    closesAt: chain.closesAt,
    closingBlock: { number: chain.block.number, hash: chain.block.hash.toLowerCase() as Hex, timestamp: chain.block.timestamp },
    contracts: checksumContracts(input.contracts),
    previousRoot: previous.root,
    inputsDigest: combinedInputsDigest(digests),
    inputDigests: digests,
    params: {
      ...params,
      emissionBudget: chain.emissionBudget,
      baseBudget: budget,
      modelWeights: [...chain.modelWeights].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([model, weightPpm]) => ({ model, weightPpm })),
    },
    receipts: {
      accepted: screening.accepted.length,
      dropped,
      droppedReceipts: screening.dropped.slice(0, DROPPED_RECEIPTS_LISTED),
      droppedReceiptsOmitted: Math.max(0, screening.dropped.length - DROPPED_RECEIPTS_LISTED),
    },
    accounts,
    total,
    root,
    validatorsRoot: vRoot,
    validators,
    leaves,
  };
  const reportJson = serializeEpochReport(report);
  const reportHash = epochReportHash(reportJson);
  const state: OracleState = { epoch: chain.epoch, root, accounts: states, nodeKeys: mergeNodeKeys(previous.nodeKeys, screening.accepted) };
  const nonZeroDropped: Partial<Record<DropReason, number>> = {};
  for (const reason of DROP_REASONS) if (dropped[reason] > 0) nonZeroDropped[reason] = dropped[reason];
  return {
    reportJson,
    reportHash,
    epochRoot: { epoch: BigInt(chain.epoch), root, total, reportHash, validatorsRoot: vRoot },
    validators,
    state,
    accepted: screening.accepted.length,
    dropped: nonZeroDropped,
  };
}
