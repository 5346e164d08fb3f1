/** BondManager: bonds, unbonds, slashes and freezes; the account's active and unbonding shares. */
import type { Context } from "ponder:registry";
import { account, bond, slash, unbond } from "ponder:schema";
import { at, on } from "./record.ts";

type BondColumns = { bonded?: (current: bigint) => bigint; unbonding?: (current: bigint) => bigint };

async function updateBond(context: Context, holder: `0x${string}`, change: BondColumns): Promise<void> {
  const initial = { bonded: change.bonded?.(0n) ?? 0n, unbonding: change.unbonding?.(0n) ?? 0n };
  await context.db.insert(account).values({ address: holder, ...initial }).onConflictDoUpdate((row) => ({
    bonded: change.bonded ? change.bonded(row.bonded) : row.bonded,
    unbonding: change.unbonding ? change.unbonding(row.unbonding) : row.unbonding,
  }));
}

on("BondManager:Bonded", async ({ event, context }) => {
  const { account: holder, payer, shares, activeShares } = event.args;
  await context.db.insert(bond).values({ id: event.id, account: holder, payer, shares, activeShares, ...at(event) });
  await updateBond(context, holder, { bonded: () => activeShares });
});

on("BondManager:UnbondRequested", async ({ event, context }) => {
  const { account: holder, shares, pendingShares, unlocksAt } = event.args;
  await context.db.insert(unbond).values({ id: event.id, kind: "requested", account: holder, shares, balanceAfter: pendingShares, unlocksAt: BigInt(unlocksAt), ...at(event) });
  await updateBond(context, holder, { bonded: (b) => b - shares, unbonding: () => pendingShares });
});

on("BondManager:UnbondCancelled", async ({ event, context }) => {
  const { account: holder, shares, activeShares } = event.args;
  await context.db.insert(unbond).values({ id: event.id, kind: "cancelled", account: holder, shares, balanceAfter: activeShares, ...at(event) });
  await updateBond(context, holder, { bonded: () => activeShares, unbonding: (u) => u - shares });
});

on("BondManager:UnbondWithdrawn", async ({ event, context }) => {
  const { account: holder, shares } = event.args;
  await context.db.insert(unbond).values({ id: event.id, kind: "withdrawn", account: holder, shares, ...at(event) });
  await updateBond(context, holder, { unbonding: (u) => u - shares });
});

on("BondManager:Slashed", async ({ event, context }) => {
  const { account: holder, recipient, fromActive, fromPending, reason } = event.args;
  await context.db.insert(slash).values({ id: event.id, account: holder, recipient, fromActive, fromPending, reason, ...at(event) });
  await updateBond(context, holder, { bonded: (b) => b - fromActive, unbonding: (u) => u - fromPending });
});

on("BondManager:BondFrozen", async ({ event, context }) => {
  await context.db.insert(account).values({ address: event.args.account, bondFreezes: event.args.freezes }).onConflictDoUpdate({ bondFreezes: event.args.freezes });
});

on("BondManager:BondUnfrozen", async ({ event, context }) => {
  await context.db.insert(account).values({ address: event.args.account, bondFreezes: event.args.freezes }).onConflictDoUpdate({ bondFreezes: event.args.freezes });
});
