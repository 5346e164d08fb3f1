/** NodeRegistry and NodeReports: nodes (status, models, suspensions), accounts' bans, validator reports. */
import type { Context } from "ponder:registry";
import { account, node, nodeReport } from "ponder:schema";
import { at, on } from "./record.ts";

async function updateNode(context: Context, nodeKey: `0x${string}`, change: (row: typeof node.$inferSelect) => Partial<typeof node.$inferInsert>): Promise<void> {
  const row = await context.db.find(node, { nodeKey });
  if (row) await context.db.update(node, { nodeKey }).set(change(row));
}

on("NodeRegistry:NodeRegistered", async ({ event, context }) => {
  const { nodeKey, account: owner, modelIds, metadataURI } = event.args;
  const row = { account: owner, status: "active", suspended: false, models: [...modelIds], metadataURI, registeredAt: event.block.timestamp, updatedAt: event.block.timestamp };
  await context.db.insert(node).values({ nodeKey, ...row }).onConflictDoUpdate(row);
  await context.db.insert(account).values({ address: owner }).onConflictDoNothing();
});

on("NodeRegistry:NodeUpdated", async ({ event, context }) => {
  const { nodeKey, modelIds, metadataURI } = event.args;
  await updateNode(context, nodeKey, () => ({ models: [...modelIds], metadataURI, updatedAt: event.block.timestamp }));
});

on("NodeRegistry:NodeDeregistered", async ({ event, context }) => {
  await updateNode(context, event.args.nodeKey, () => ({ status: "deregistered", updatedAt: event.block.timestamp }));
});

on("NodeRegistry:NodeBanned", async ({ event, context }) => {
  await updateNode(context, event.args.nodeKey, () => ({ status: "banned", updatedAt: event.block.timestamp }));
});

on("NodeRegistry:NodeSuspensionChanged", async ({ event, context }) => {
  await updateNode(context, event.args.nodeKey, () => ({ suspended: event.args.suspended, updatedAt: event.block.timestamp }));
});

on("NodeRegistry:AccountBanned", async ({ event, context }) => {
  await context.db.insert(account).values({ address: event.args.account, banned: true }).onConflictDoUpdate({ banned: true });
});

on("NodeRegistry:AccountSuspensionChanged", async ({ event, context }) => {
  const { account: holder, suspended } = event.args;
  await context.db.insert(account).values({ address: holder, suspended }).onConflictDoUpdate({ suspended });
});

on("NodeReports:NodeReported", async ({ event, context }) => {
  const { reportId, nodeKey, reporter, account: owner, evidenceHash } = event.args;
  await context.db.insert(nodeReport).values({ reportId, nodeKey, reporter, account: owner, evidenceHash, status: "open", ...at(event) });
  await updateNode(context, nodeKey, (row) => ({ strikesReported: row.strikesReported + 1 }));
});

on("NodeReports:ReportConfirmed", async ({ event, context }) => {
  const { reportId, slashedShares, reporterShares, burnShares, reporterPoolReward } = event.args;
  const row = await context.db.find(nodeReport, { reportId });
  if (row) await context.db.update(nodeReport, { reportId }).set({ status: "confirmed", slashedShares, reporterShares, burnShares, reporterPoolReward });
});

on("NodeReports:ReportDismissed", async ({ event, context }) => {
  const row = await context.db.find(nodeReport, { reportId: event.args.reportId });
  if (row) await context.db.update(nodeReport, { reportId: event.args.reportId }).set({ status: "dismissed" });
});

on("NodeReports:NodeFlagged", async ({ event, context }) => {
  await updateNode(context, event.args.nodeKey, (row) => ({ flags: row.flags + 1 }));
});
