/**
 * The gateway's durable receipts store: embedded PGlite by default (files in `dataDir`),
 * PostgreSQL when a `databaseUrl` is given. Migrations run at open.
 *
 * @example
 * const store = await openStore({ dataDir: "./data", databaseUrl: process.env.DATABASE_URL });
 * const { inserted } = await store.insert(receipt, sampled ? sample : undefined);
 * const page = await store.receiptsOfEpoch(7, { limit: 500 });
 * await store.close();
 */
import { migrate } from "./migrations.ts";
import { openPglite, openPostgres, type SqlClient } from "./sqlClient.ts";
import { SqlReceiptStore } from "./sqlStore.ts";
import type { OpenStoreOptions, ReceiptStore } from "./types.ts";

export async function openStore(options: OpenStoreOptions): Promise<ReceiptStore> {
  const usePostgres = options.databaseUrl !== undefined && options.databaseUrl !== "";
  const client: SqlClient = usePostgres
    ? openPostgres(options.databaseUrl as string, options.poolSize ?? 10)
    : await openPglite(options.dataDir, options.syncCommits ?? true);
  try {
    await migrate(client);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  return new SqlReceiptStore(client, usePostgres ? "postgres" : "pglite");
}

export { MIGRATIONS } from "./migrations.ts";
export { PPM, shouldSample } from "./sampling.ts";
export { RecentResponses, type RecentResponsesOptions } from "./recent.ts";
export { MAX_PAGE } from "./validate.ts";
export * from "./types.ts";
