/** POD and sPOD: balances, delegation and votes; sPOD deposits, withdrawals and cooldowns. */
import { zeroAddress } from "viem";
import type { Context } from "ponder:registry";
import { account, cooldown, stake } from "ponder:schema";
import { at, on } from "./record.ts";

type Token = "pod" | "spod";

async function addBalance(context: Context, token: Token, holder: `0x${string}`, delta: bigint): Promise<void> {
  if (holder === zeroAddress || delta === 0n) return;
  await context.db.insert(account).values({ address: holder, [token]: delta }).onConflictDoUpdate((row) => ({ [token]: row[token] + delta }));
}

async function transfer(context: Context, token: Token, from: `0x${string}`, to: `0x${string}`, value: bigint): Promise<void> {
  await addBalance(context, token, from, -value);
  await addBalance(context, token, to, value);
}

async function setDelegate(context: Context, token: Token, delegator: `0x${string}`, delegate: `0x${string}`): Promise<void> {
  const column = token === "pod" ? "podDelegate" : "spodDelegate";
  await context.db.insert(account).values({ address: delegator, [column]: delegate }).onConflictDoUpdate({ [column]: delegate });
}

async function setVotes(context: Context, token: Token, delegate: `0x${string}`, votes: bigint): Promise<void> {
  const column = token === "pod" ? "podVotes" : "spodVotes";
  await context.db.insert(account).values({ address: delegate, [column]: votes }).onConflictDoUpdate({ [column]: votes });
}

on("PodToken:Transfer", async ({ event, context }) => transfer(context, "pod", event.args.from, event.args.to, event.args.value));
on("PodToken:DelegateChanged", async ({ event, context }) => setDelegate(context, "pod", event.args.delegator, event.args.toDelegate));
on("PodToken:DelegateVotesChanged", async ({ event, context }) => setVotes(context, "pod", event.args.delegate, event.args.newVotes));

on("StakedPod:Transfer", async ({ event, context }) => transfer(context, "spod", event.args.from, event.args.to, event.args.value));
on("StakedPod:DelegateChanged", async ({ event, context }) => setDelegate(context, "spod", event.args.delegator, event.args.toDelegate));
on("StakedPod:DelegateVotesChanged", async ({ event, context }) => setVotes(context, "spod", event.args.delegate, event.args.newVotes));

on("StakedPod:Deposit", async ({ event, context }) => {
  const { sender, owner, assets, shares } = event.args;
  await context.db.insert(stake).values({ id: event.id, kind: "deposit", sender, owner, receiver: owner, assets, shares, ...at(event) });
});

on("StakedPod:Withdraw", async ({ event, context }) => {
  const { sender, receiver, owner, assets, shares } = event.args;
  await context.db.insert(stake).values({ id: event.id, kind: "withdraw", sender, owner, receiver, assets, shares, ...at(event) });
});

on("StakedPod:CooldownStarted", async ({ event, context }) => {
  const { account: holder, shares, opensAt, closesAt } = event.args;
  const row = { status: "cooling", shares, opensAt: BigInt(opensAt), closesAt: BigInt(closesAt), updatedAt: event.block.timestamp };
  await context.db.insert(cooldown).values({ account: holder, ...row }).onConflictDoUpdate(row);
});

on("StakedPod:CooldownCancelled", async ({ event, context }) => {
  const row = { status: "cancelled", shares: 0n, opensAt: 0n, closesAt: 0n, updatedAt: event.block.timestamp };
  await context.db.insert(cooldown).values({ account: event.args.account, ...row }).onConflictDoUpdate({ status: "cancelled", shares: 0n, updatedAt: event.block.timestamp });
});

on("StakedPod:CooldownReduced", async ({ event, context }) => {
  const { account: holder, remainingShares } = event.args;
  const row = { status: "cooling", shares: remainingShares, opensAt: 0n, closesAt: 0n, updatedAt: event.block.timestamp };
  await context.db.insert(cooldown).values({ account: holder, ...row }).onConflictDoUpdate({ shares: remainingShares, updatedAt: event.block.timestamp });
});
