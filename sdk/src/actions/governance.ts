/**
 * Governance of ProtocolParams through the PodGovernor and its timelock: delegate votes (POD and
 * sPOD each count once delegated), propose a parameter change, vote, queue, execute. A proposal
 * is named by its id; queue and execute need its whole body, which `PodProposal` carries.
 */
import { encodeFunctionData, keccak256, stringToHex, toHex, type Address, type Hash, type Hex } from "viem";
import { podGovernorAbi } from "../abi/PodGovernor.ts";
import { podTokenAbi } from "../abi/PodToken.ts";
import { protocolParamsAbi } from "../abi/ProtocolParams.ts";
import { stakedPodAbi } from "../abi/StakedPod.ts";
import type { PodClients } from "../client.ts";
import { eventOf, senderOf, sendCall, type WriteResult } from "./internal.ts";

/** A proposal's body and identity: what queue and execute send again. */
export type PodProposal = {
  proposalId: bigint;
  targets: readonly Address[];
  values: readonly bigint[];
  calldatas: readonly Hex[];
  description: string;
  descriptionHash: Hash;
};

/** One governed parameter by its name in ProtocolParams (e.g. "stakeCooldown"), and its new value. */
export type ParameterChange = { name: string; value: bigint };

/** A parameter's on-chain name: its ASCII name left-aligned in a bytes32. */
export function parameterKey(name: string): Hex {
  if (!/^[A-Za-z0-9_]{1,32}$/.test(name)) throw new RangeError(`parameter name ${JSON.stringify(name)} is not 1-32 ASCII letters, digits or _`);
  return stringToHex(name, { size: 32 });
}

/** The body of a parameter-change proposal: setParameter for one, setParameters for several (checked together). */
export function parameterChangeProposal(pod: PodClients, changes: readonly ParameterChange[], description: string): Omit<PodProposal, "proposalId"> {
  if (changes.length === 0) throw new RangeError("a parameter change proposal needs at least one change");
  const [only] = changes;
  const calldata =
    changes.length === 1 && only !== undefined
      ? encodeFunctionData({ abi: protocolParamsAbi, functionName: "setParameter", args: [parameterKey(only.name), only.value] })
      : encodeFunctionData({ abi: protocolParamsAbi, functionName: "setParameters", args: [changes.map((c) => parameterKey(c.name)), changes.map((c) => c.value)] });
  return { targets: [pod.contracts.protocolParams], values: [0n], calldatas: [calldata], description, descriptionHash: keccak256(toHex(description)) };
}

export type DelegateVotesReturnType = { delegatee: Address; hashes: Hash[] };

/**
 * Delegates the sender's POD and sPOD votes to `delegatee` (default: itself); a token already
 * delegated there is skipped. Votes count from the next block on.
 */
export async function delegateVotes(pod: PodClients, parameters: { delegatee?: Address | undefined } = {}): Promise<DelegateVotesReturnType> {
  const me = senderOf(pod);
  const delegatee = parameters.delegatee ?? me;
  const hashes: Hash[] = [];
  const { podToken, stakedPod } = pod.contracts;
  const current = await pod.publicClient.readContract({ address: podToken, abi: podTokenAbi, functionName: "delegates", args: [me] });
  if (current.toLowerCase() !== delegatee.toLowerCase()) {
    hashes.push((await sendCall(pod, { contract: "PodToken", address: podToken, abi: podTokenAbi, functionName: "delegate", args: [delegatee] })).hash);
  }
  const currentStaked = await pod.publicClient.readContract({ address: stakedPod, abi: stakedPodAbi, functionName: "delegates", args: [me] });
  if (currentStaked.toLowerCase() !== delegatee.toLowerCase()) {
    hashes.push((await sendCall(pod, { contract: "StakedPod", address: stakedPod, abi: stakedPodAbi, functionName: "delegate", args: [delegatee] })).hash);
  }
  return { delegatee, hashes };
}

export type ProposeParameters = { targets: readonly Address[]; values: readonly bigint[]; calldatas: readonly Hex[]; description: string };
export type ProposeReturnType = WriteResult & { proposal: PodProposal; voteStart: bigint; voteEnd: bigint };

/**
 * Proposes any calls for the timelock to make (setModelParams, setAssetAccepted...). Errors:
 * GovernorInsufficientProposerVotes, GovernorUnexpectedProposalState (the same proposal exists),
 * GovernorInvalidProposalLength.
 */
export async function propose(pod: PodClients, parameters: ProposeParameters): Promise<ProposeReturnType> {
  const governor = pod.contracts.governor;
  const sent = await sendCall(pod, {
    contract: "PodGovernor",
    address: governor,
    abi: podGovernorAbi,
    functionName: "propose",
    args: [parameters.targets, parameters.values, parameters.calldatas, parameters.description],
  });
  const event = eventOf(sent.receipt, podGovernorAbi, governor, "ProposalCreated");
  const proposal: PodProposal = { ...parameters, descriptionHash: keccak256(toHex(parameters.description)), proposalId: event.args.proposalId };
  return { hash: sent.hash, receipt: sent.receipt, proposal, voteStart: event.args.voteStart, voteEnd: event.args.voteEnd };
}

export type ProposeParameterChangeParameters = { changes: readonly ParameterChange[]; description: string };

/** Proposes changing ProtocolParams parameters (one setParameter or one setParameters call); errors as propose. */
export async function proposeParameterChange(pod: PodClients, parameters: ProposeParameterChangeParameters): Promise<ProposeReturnType> {
  return propose(pod, parameterChangeProposal(pod, parameters.changes, parameters.description));
}

export type VoteSupport = "against" | "for" | "abstain";
const SUPPORT: Record<VoteSupport, number> = { against: 0, for: 1, abstain: 2 };

export type CastVoteParameters = { proposalId: bigint; support: VoteSupport; reason?: string | undefined };
export type CastVoteReturnType = WriteResult & { weight: bigint };

/** Votes on an active proposal; returns the vote's weight. Errors: GovernorUnexpectedProposalState, GovernorAlreadyCastVote. */
export async function castVote(pod: PodClients, parameters: CastVoteParameters): Promise<CastVoteReturnType> {
  const governor = pod.contracts.governor;
  const support = SUPPORT[parameters.support];
  const common = { contract: "PodGovernor", address: governor, abi: podGovernorAbi } as const;
  const sent =
    parameters.reason === undefined
      ? await sendCall(pod, { ...common, functionName: "castVote", args: [parameters.proposalId, support] })
      : await sendCall(pod, { ...common, functionName: "castVoteWithReason", args: [parameters.proposalId, support, parameters.reason] });
  const event = eventOf(sent.receipt, podGovernorAbi, governor, "VoteCast");
  return { hash: sent.hash, receipt: sent.receipt, weight: event.args.weight };
}

/** Queues a succeeded proposal in the timelock; returns when it may execute. Errors: GovernorUnexpectedProposalState. */
export async function queueProposal(pod: PodClients, parameters: { proposal: PodProposal }): Promise<WriteResult & { etaSeconds: bigint }> {
  const { proposal } = parameters;
  const governor = pod.contracts.governor;
  const sent = await sendCall(pod, {
    contract: "PodGovernor",
    address: governor,
    abi: podGovernorAbi,
    functionName: "queue",
    args: [proposal.targets, proposal.values, proposal.calldatas, proposal.descriptionHash],
  });
  const event = eventOf(sent.receipt, podGovernorAbi, governor, "ProposalQueued");
  return { hash: sent.hash, receipt: sent.receipt, etaSeconds: event.args.etaSeconds };
}

/**
 * Executes a queued proposal once its timelock delay passed. Errors: GovernorUnexpectedProposalState,
 * TimelockUnexpectedOperationState (too early), or the target's own error (ParameterOutOfBounds...).
 */
export async function executeProposal(pod: PodClients, parameters: { proposal: PodProposal }): Promise<WriteResult> {
  const { proposal } = parameters;
  const { hash, receipt } = await sendCall(pod, {
    contract: "PodGovernor",
    address: pod.contracts.governor,
    abi: podGovernorAbi,
    functionName: "execute",
    args: [proposal.targets, proposal.values, proposal.calldatas, proposal.descriptionHash],
  });
  return { hash, receipt };
}
