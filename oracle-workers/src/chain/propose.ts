/**
 * Proposing an epoch root: the EIP-712 signature each oracle gives, the on-chain record, and the
 * proposal itself, which is idempotent (a root already on-chain is not sent again) and refuses
 * to paper over a different on-chain root.
 */
import { getAddress, isAddressEqual, type Address, type Hash, type Hex } from "viem";
import { rewardsDistributorAbi } from "../../../sdk/src/abi/contracts.ts";
import type { EpochRoot } from "../../../sdk/src/typedData.ts";
import { recoverEpochRootSigner } from "../cosign/signedRoot.ts";
import type { ChainReader, ChainWriter } from "./client.ts";
import { decodeContractError, throwDecoded, TransactionRevertedError } from "./errors.ts";

export type OracleSet = { oracles: Address[]; quorum: number };

export async function readOracleSet(client: Pick<ChainReader, "readContract">, distributor: Address): Promise<OracleSet> {
  const [oracles, quorum] = await client.readContract({ address: distributor, abi: rewardsDistributorAbi, functionName: "oracles" });
  return { oracles: oracles.map((o) => getAddress(o)), quorum: Number(quorum) };
}

/** RewardsDistributor.EpochRecord of a proposed (not revoked) root. */
export type EpochRecord = { root: Hex; reportHash: Hex; validatorsRoot: Hex; total: bigint; claimableAt: bigint };

/** RewardsDistributor.RootStatus. */
const ROOT_STATUS = ["None", "Proposed", "Revoked"] as const;
export type RootStatus = (typeof ROOT_STATUS)[number];

export type Proposal = {
  /** The standing proposal of the epoch; null when none (never proposed, or revoked). */
  record: EpochRecord | null;
  status: RootStatus;
  /** The next epoch a root may be proposed for. */
  nextEpoch: bigint;
};

export async function readProposal(client: Pick<ChainReader, "readContract">, distributor: Address, epoch: number | bigint): Promise<Proposal> {
  const [raw, nextEpoch] = await Promise.all([
    client.readContract({ address: distributor, abi: rewardsDistributorAbi, functionName: "epochRecord", args: [BigInt(epoch)] }),
    client.readContract({ address: distributor, abi: rewardsDistributorAbi, functionName: "nextEpoch" }),
  ]);
  const status = ROOT_STATUS[raw.status] ?? "None";
  // A revoked record stays in storage until the epoch is proposed again: it stands for nothing.
  const standing = status === "Proposed" && BigInt(epoch) < nextEpoch;
  const record = standing
    ? { root: raw.root, reportHash: raw.reportHash, validatorsRoot: raw.validatorsRoot, total: raw.total, claimableAt: BigInt(raw.claimableAt) }
    : null;
  return { record, status, nextEpoch };
}

/** The epoch already carries a different root than the one this oracle would propose. */
export class ProposalConflict extends Error {
  override name = "ProposalConflict";
  readonly epoch: bigint;
  readonly onChain: EpochRecord;
  readonly ours: EpochRoot;
  /** The fields that differ. */
  readonly fields: readonly (keyof EpochRecord & keyof EpochRoot)[];
  constructor(epoch: bigint, onChain: EpochRecord, ours: EpochRoot, fields: readonly (keyof EpochRecord & keyof EpochRoot)[]) {
    super(`epoch ${epoch} is already proposed with a different ${fields.join(", ")} (on-chain root ${onChain.root}, ours ${ours.root})`);
    this.epoch = epoch;
    this.onChain = onChain;
    this.ours = ours;
    this.fields = fields;
  }
}

/** Which of root, total, reportHash, validatorsRoot differ between the record and ours. */
export function differingFields(record: EpochRecord, ours: EpochRoot): (keyof EpochRecord & keyof EpochRoot)[] {
  const fields = ["root", "total", "reportHash", "validatorsRoot"] as const;
  return fields.filter((f) => String(record[f]).toLowerCase() !== String(ours[f]).toLowerCase());
}

export type OracleSignature = { signer: Address; signature: Hex };

export type ProposeResult = { alreadyProposed: true } | { alreadyProposed: false; txHash: Hash; blockNumber: bigint };

/**
 * Orders `signatures` as the contract wants: by signer ascending, one per signer, the quorum's
 * worth. Pure; the caller checked that each signer is an oracle and signed this root.
 */
export function quorumSignatures(signatures: readonly OracleSignature[], quorum: number): Hex[] {
  const bySigner = new Map<bigint, Hex>();
  for (const s of signatures) if (!bySigner.has(BigInt(s.signer))) bySigner.set(BigInt(s.signer), s.signature);
  return [...bySigner.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, quorum)
    .map(([, signature]) => signature);
}

/**
 * Proposes `epochRoot` with the oracles' signatures and waits for the receipt. Does nothing when
 * the epoch already carries this very root (any oracle may have sent it first); throws
 * ProposalConflict when it carries another, and a ContractRevertError (EpochNotClosed,
 * EpochOutOfOrder, QuorumNotReached, PoolUnderfunded, EpochBudgetExceeded...) when the
 * simulation reverts. Signatures that are not by an oracle of the current set over this root
 * are left out rather than spoiling the quorum.
 */
export async function proposeRoot(
  wallet: ChainWriter,
  client: Pick<ChainReader, "readContract" | "simulateContract" | "getChainId" | "waitForTransactionReceipt">,
  distributor: Address,
  epochRoot: EpochRoot,
  signatures: readonly OracleSignature[],
): Promise<ProposeResult> {
  if (await alreadyProposed(client, distributor, epochRoot)) return { alreadyProposed: true };
  const [{ oracles, quorum }, chainId] = await Promise.all([readOracleSet(client, distributor), client.getChainId()]);
  const valid: OracleSignature[] = [];
  for (const s of signatures) {
    const recovered = await recoverEpochRootSigner(epochRoot, s.signature, { chainId, distributor }).catch(() => null);
    if (recovered !== null && isAddressEqual(recovered, s.signer) && oracles.some((o) => isAddressEqual(o, recovered))) valid.push(s);
  }
  const args = [epochRoot, quorumSignatures(valid, quorum)] as const;
  let request;
  try {
    ({ request } = await client.simulateContract({ address: distributor, abi: rewardsDistributorAbi, functionName: "proposeRoot", args, account: wallet.account }));
  } catch (error) {
    // Another oracle's proposal may have landed since the check above.
    if (decodeContractError(error)?.name === "EpochOutOfOrder" && (await alreadyProposed(client, distributor, epochRoot))) return { alreadyProposed: true };
    throwDecoded(error, "RewardsDistributor.proposeRoot");
  }
  const txHash = await wallet.writeContract({ ...request, chain: wallet.chain, account: wallet.account });
  const receipt = await client.waitForTransactionReceipt({ hash: txHash });
  if (receipt.status !== "success") throw new TransactionRevertedError("RewardsDistributor.proposeRoot", txHash);
  return { alreadyProposed: false, txHash, blockNumber: receipt.blockNumber };
}

/** True when the epoch carries exactly `epochRoot`; throws ProposalConflict when it carries another. */
async function alreadyProposed(client: Pick<ChainReader, "readContract">, distributor: Address, epochRoot: EpochRoot): Promise<boolean> {
  const { record } = await readProposal(client, distributor, epochRoot.epoch);
  if (record === null) return false;
  const fields = differingFields(record, epochRoot);
  if (fields.length > 0) throw new ProposalConflict(epochRoot.epoch, record, epochRoot, fields);
  return true;
}
