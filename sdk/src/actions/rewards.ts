/**
 * Node rewards: the indexer serves each account's leaf of the latest claimable root (GET
 * <indexerUrl>/claims/:account); a claim pays cumulative minus claimed, liquid POD or bonded
 * sPOD with the governed bonus.
 */
import { getAddress, isAddress, isHex, type Address, type Hex } from "viem";
import { rewardsDistributorAbi } from "../abi/RewardsDistributor.ts";
import type { PodClients } from "../client.ts";
import { PodConfigError, PodIndexerError } from "../errors.ts";
import { eventOf, senderOf, sendCall, type WriteResult } from "./internal.ts";

/** The indexer's answer for one account: its leaf in the latest claimable root. */
export type ClaimData = {
  account: Address;
  /** The latest claimable epoch, or null when none is yet. */
  epoch: number | null;
  root: Hex;
  cumulative: bigint;
  claimed: bigint;
  claimable: bigint;
  proof: Hex[];
};

const INDEXER_TIMEOUT_MS = 10_000;

/** Fetches and validates GET <indexerUrl>/claims/:account. Throws PodIndexerError. */
export async function fetchClaim(pod: PodClients, parameters: { account?: Address | undefined } = {}): Promise<ClaimData> {
  if (pod.indexerUrl === undefined) throw new PodConfigError("claims come from the indexer: give the client an indexerUrl");
  const account = getAddress(senderOf(pod, parameters.account));
  const url = `${pod.indexerUrl.replace(/\/+$/, "")}/claims/${account}`;
  let response: Response;
  try {
    response = await (pod.fetch ?? fetch)(url, { signal: AbortSignal.timeout(INDEXER_TIMEOUT_MS), headers: { accept: "application/json" } });
  } catch (error) {
    throw new PodIndexerError(url, `request failed: ${error instanceof Error ? error.message : String(error)}`, undefined, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) throw new PodIndexerError(url, `HTTP ${response.status}: ${text.slice(0, 200)}`, response.status);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PodIndexerError(url, "the answer is not JSON", response.status);
  }
  const claim = parseClaimData(body, url);
  if (claim.account !== account) throw new PodIndexerError(url, `the answer is for ${claim.account}, not ${account}`);
  return claim;
}

/** Validates the indexer's claim JSON; throws PodIndexerError naming the bad field. */
export function parseClaimData(body: unknown, source: string): ClaimData {
  const bad = (field: string) => new PodIndexerError(source, `claim field ${field} is missing or malformed`);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new PodIndexerError(source, "the claim is not a JSON object");
  const record = body as Record<string, unknown>;
  const wei = (field: string): bigint => {
    const value = record[field];
    if (typeof value !== "string" || !/^(0|[1-9][0-9]{0,77})$/.test(value)) throw bad(field);
    return BigInt(value);
  };
  const bytes32 = (value: unknown, field: string): Hex => {
    if (typeof value !== "string" || !isHex(value) || value.length !== 66) throw bad(field);
    return value.toLowerCase() as Hex;
  };
  if (typeof record.account !== "string" || !isAddress(record.account, { strict: false })) throw bad("account");
  const epoch = record.epoch;
  if (epoch !== null && !(typeof epoch === "number" && Number.isSafeInteger(epoch) && epoch >= 0)) throw bad("epoch");
  if (!Array.isArray(record.proof)) throw bad("proof");
  const claim: ClaimData = {
    account: getAddress(record.account),
    epoch,
    root: bytes32(record.root, "root"),
    cumulative: wei("cumulative"),
    claimed: wei("claimed"),
    claimable: wei("claimable"),
    proof: record.proof.map((node, i) => bytes32(node, `proof[${i}]`)),
  };
  if (claim.claimed > claim.cumulative && claim.claimable !== 0n) throw bad("claimable");
  return claim;
}

export type ClaimRewardsParameters = {
  /** Whose rewards (default: the sender); they always go to that account. */
  account?: Address | undefined;
  /** Claim as sPOD bonded to the account, with the bonded-claim bonus (default: liquid POD). */
  asBonded?: boolean | undefined;
  /** A leaf already fetched (default: fetched from the indexer now). */
  claim?: ClaimData | undefined;
};
export type ClaimRewardsReturnType = WriteResult & {
  account: Address;
  /** The epoch whose root paid. */
  epoch: bigint;
  cumulative: bigint;
  /** POD paid (liquid) or staked and bonded (asBonded), bonus excluded. */
  amount: bigint;
  /** The bonded-claim bonus in POD (0 for a liquid claim). */
  bonus: bigint;
};

/**
 * Claims the account's rewards with the proof the indexer serves. Errors: NothingToClaim,
 * InvalidProof (the indexer lags the chain's claimable root), NoClaimableRoot,
 * ERC20InsufficientBalance (the pool awaits a refill).
 */
export async function claimRewards(pod: PodClients, parameters: ClaimRewardsParameters = {}): Promise<ClaimRewardsReturnType> {
  const claim = parameters.claim ?? (await fetchClaim(pod, { account: parameters.account }));
  const asBonded = parameters.asBonded ?? false;
  const distributor = pod.contracts.rewardsDistributor;
  const sent = await sendCall(pod, {
    contract: "RewardsDistributor",
    address: distributor,
    abi: rewardsDistributorAbi,
    functionName: "claim",
    args: [claim.account, claim.cumulative, claim.proof, asBonded],
  });
  if (asBonded) {
    const event = eventOf(sent.receipt, rewardsDistributorAbi, distributor, "BondedRewardsClaimed");
    return { hash: sent.hash, receipt: sent.receipt, account: event.args.account, epoch: event.args.epoch, cumulative: event.args.cumulative, amount: event.args.amount, bonus: event.args.bonus };
  }
  const event = eventOf(sent.receipt, rewardsDistributorAbi, distributor, "RewardsClaimed");
  return { hash: sent.hash, receipt: sent.receipt, account: event.args.account, epoch: event.args.epoch, cumulative: event.args.cumulative, amount: event.args.amount, bonus: 0n };
}
