/**
 * The indexer's HTTP API beside Ponder's own /status, /ready, /health and /metrics: GraphQL at
 * /graphql, epochs with their reconciliation at /epochs/:n, the checked report bytes at
 * /epochs/:n/report, and claim proofs at /claims/:account.
 */
import { Hono } from "hono";
import { and, desc, eq, graphql, lte, ne } from "ponder";
import { db, publicClients } from "ponder:api";
import schema from "ponder:schema";
import { isAddress, getAddress, zeroHash } from "viem";
import { epochStatus, proofFor } from "./claims.ts";

const app = new Hono();

app.use("/graphql", graphql({ db, schema }));

/** Chain time: the latest block's timestamp, or the clock when that is behind (the next block is not). */
async function chainNow(): Promise<bigint> {
  const wall = BigInt(Math.floor(Date.now() / 1000));
  try {
    const block = await publicClients.pod.getBlock({ blockTag: "latest" });
    return block.timestamp > wall ? block.timestamp : wall;
  } catch {
    return wall;
  }
}

function readEpochNumber(text: string): bigint | undefined {
  return /^(0|[1-9][0-9]{0,18})$/.test(text) ? BigInt(text) : undefined;
}

app.get("/epochs/:n", async (c) => {
  const n = readEpochNumber(c.req.param("n"));
  if (n === undefined) return c.json({ error: "epoch must be a non-negative integer" }, 400);
  const [row] = await db.select().from(schema.epoch).where(eq(schema.epoch.epoch, n)).limit(1);
  if (!row) return c.json({ error: `epoch ${n} is not known` }, 404);
  return c.json({
    epoch: Number(row.epoch),
    root: row.root,
    total: row.total.toString(),
    reportHash: row.reportHash,
    validatorsRoot: row.validatorsRoot,
    claimableAt: Number(row.claimableAt),
    status: epochStatus(row, await chainNow()),
    reconciliation: { status: row.reconciliation, reason: row.reconciliationReason ?? null, accounts: row.mismatchedAccounts.map((a) => getAddress(a)) },
  });
});

app.get("/epochs/:n/report", async (c) => {
  const n = readEpochNumber(c.req.param("n"));
  if (n === undefined) return c.json({ error: "epoch must be a non-negative integer" }, 400);
  const [row] = await db.select().from(schema.epochReport).where(eq(schema.epochReport.epoch, n)).limit(1);
  if (!row) return c.json({ error: `no hash-checked report for epoch ${n} yet` }, 404);
  return c.body(row.body, 200, { "content-type": "application/json" });
});

app.get("/claims/:account", async (c) => {
  const text = c.req.param("account");
  if (!isAddress(text, { strict: false })) return c.json({ error: `not an address: ${text}` }, 400);
  const address = getAddress(text);
  const now = await chainNow();
  const [latest] = await db.select().from(schema.epoch)
    .where(and(ne(schema.epoch.status, "revoked"), lte(schema.epoch.claimableAt, now)))
    .orderBy(desc(schema.epoch.epoch)).limit(1);
  const [holder] = await db.select().from(schema.account).where(eq(schema.account.address, address)).limit(1);
  const claimed = holder?.claimed ?? 0n;
  if (!latest) {
    return c.json({ account: address, epoch: null, root: zeroHash, cumulative: "0", claimed: claimed.toString(), claimable: "0", proof: [] });
  }
  if (latest.reconciliation !== "match") {
    return c.json({ error: `epoch ${latest.epoch} is claimable on-chain but its report is ${latest.reconciliation === "pending" ? "not reconciled yet" : "a mismatch"}`, epoch: Number(latest.epoch), reconciliation: latest.reconciliation }, 503);
  }
  const [report] = await db.select().from(schema.epochReport).where(eq(schema.epochReport.epoch, latest.epoch)).limit(1);
  if (!report) return c.json({ error: `the report of epoch ${latest.epoch} is missing` }, 503);
  const { cumulative, proof } = proofFor(report, address);
  const claimable = cumulative > claimed ? cumulative - claimed : 0n;
  return c.json({ account: address, epoch: Number(latest.epoch), root: latest.root, cumulative: cumulative.toString(), claimed: claimed.toString(), claimable: claimable.toString(), proof });
});

export default app;
