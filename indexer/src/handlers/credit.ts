/** CreditVault and Buyback: deposits, settled grants, withdrawals, revenue and buybacks. */
import { buyback, creditDeposit, grantSettlement, withdrawal } from "ponder:schema";
import { at, on } from "./record.ts";

on("CreditVault:CreditDeposited", async ({ event, context }) => {
  const { account, asset, payer, amount } = event.args;
  await context.db.insert(creditDeposit).values({ id: event.id, account, asset, payer, amount, ...at(event) });
});

on("CreditVault:UsageSettled", async ({ event, context }) => {
  const { grantId, account, gateway, asset, epoch, amount, cumulativeSpent } = event.args;
  await context.db.insert(grantSettlement).values({ id: event.id, grantId, account, gateway, asset, epoch, amount, cumulativeSpent, ...at(event) });
});

on("CreditVault:WithdrawalRequested", async ({ event, context }) => {
  const { account, asset, amount, readyAt } = event.args;
  const row = { amount, readyAt: BigInt(readyAt), status: "requested", updatedAt: event.block.timestamp };
  await context.db.insert(withdrawal).values({ id: `${account}-${asset}`, account, asset, ...row }).onConflictDoUpdate(row);
});

for (const [name, status] of [["CreditVault:WithdrawalCancelled", "cancelled"], ["CreditVault:WithdrawalCompleted", "completed"]] as const) {
  on(name, async ({ event, context }) => {
    const { account, asset, amount } = event.args;
    const row = { amount, status, updatedAt: event.block.timestamp };
    await context.db.insert(withdrawal).values({ id: `${account}-${asset}`, account, asset, readyAt: 0n, ...row }).onConflictDoUpdate(row);
  });
}

on("CreditVault:RevenueForwarded", async ({ event, context }) => {
  const { asset, amount } = event.args;
  await context.db.insert(buyback).values({ id: event.id, kind: "revenue", asset, amountIn: amount, ...at(event) });
});

on("Buyback:BoughtBack", async ({ event, context }) => {
  const { asset, caller, amountIn, podOut, minOut } = event.args;
  await context.db.insert(buyback).values({ id: event.id, kind: "bought", asset, caller, amountIn, podOut, minOut, ...at(event) });
});

on("Buyback:BuybackDistributed", async ({ event, context }) => {
  const { burned, toStakers, toRewardsPool } = event.args;
  await context.db.insert(buyback).values({ id: event.id, kind: "distributed", burned, toStakers, toRewardsPool, ...at(event) });
});
