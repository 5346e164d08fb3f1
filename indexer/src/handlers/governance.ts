/** PodGovernor proposals and votes; ProtocolParams changes. The timelock's events are recorded only. */
import type { Context } from "ponder:registry";
import { parameterChange, proposal, vote } from "ponder:schema";
import { at, jsonArgs, on } from "./record.ts";

async function setProposal(context: Context, proposalId: bigint, change: Partial<typeof proposal.$inferInsert>): Promise<void> {
  if (await context.db.find(proposal, { proposalId })) await context.db.update(proposal, { proposalId }).set(change);
}

on("PodGovernor:ProposalCreated", async ({ event, context }) => {
  const { proposalId, proposer, targets, values, calldatas, description, voteStart, voteEnd } = event.args;
  await context.db.insert(proposal).values({
    proposalId, proposer, targets: [...targets], values: [...values], calldatas: [...calldatas], description, voteStart, voteEnd, status: "created", ...at(event),
  });
});

on("PodGovernor:ProposalQueued", async ({ event, context }) => setProposal(context, event.args.proposalId, { status: "queued", eta: event.args.etaSeconds }));
on("PodGovernor:ProposalExecuted", async ({ event, context }) => setProposal(context, event.args.proposalId, { status: "executed" }));
on("PodGovernor:ProposalCanceled", async ({ event, context }) => setProposal(context, event.args.proposalId, { status: "canceled" }));

type Vote = { voter: `0x${string}`; proposalId: bigint; support: number; weight: bigint; reason: string };

async function castVote(context: Context, event: Parameters<typeof at>[0] & { args: Vote }): Promise<void> {
  const { voter, proposalId, support, weight, reason } = event.args;
  await context.db.insert(vote).values({ id: `${proposalId}-${voter}`, proposalId, voter, support, weight, reason, ...at(event) });
  const row = await context.db.find(proposal, { proposalId });
  if (!row) return;
  const tally = support === 0 ? { againstVotes: row.againstVotes + weight } : support === 1 ? { forVotes: row.forVotes + weight } : { abstainVotes: row.abstainVotes + weight };
  await context.db.update(proposal, { proposalId }).set(tally);
}

on("PodGovernor:VoteCast", async ({ event, context }) => castVote(context, event));
on("PodGovernor:VoteCastWithParams", async ({ event, context }) => castVote(context, event));

on("ProtocolParams:ParameterChanged", async ({ event, context }) => {
  const { name, oldValue, newValue } = event.args;
  await context.db.insert(parameterChange).values({ id: event.id, kind: "parameter", name, oldValue: oldValue.toString(), newValue: newValue.toString(), ...at(event) });
});

on("ProtocolParams:ModelParamsChanged", async ({ event, context }) => {
  const { modelId, oldParams, newParams } = event.args;
  await context.db.insert(parameterChange).values({
    id: event.id, kind: "model", name: modelId, oldValue: JSON.stringify(jsonArgs(oldParams)), newValue: JSON.stringify(jsonArgs(newParams)), ...at(event),
  });
});
