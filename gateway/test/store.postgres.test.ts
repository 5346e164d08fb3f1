/**
 * The same ReceiptStore suite on PostgreSQL: a throwaway cluster (test/helpers/postgres.ts:
 * initdb + pg_ctl from Debian's server binaries) in a temp dir on 127.0.0.1, removed afterwards.
 * Skipped, saying why, on a machine without those binaries.
 */
import { describe, it } from "node:test";
import { postgresUnavailable, startPostgres } from "../../test/helpers/postgres.ts";
import { openStore } from "../src/store/index.ts";
import { storeSuite } from "./store.suite.ts";

const skipReason = postgresUnavailable();

if (skipReason !== undefined) {
  describe("ReceiptStore (PostgreSQL)", () => {
    it("runs against a throwaway PostgreSQL cluster", { skip: skipReason }, () => undefined);
  });
} else {
  storeSuite("PostgreSQL", startCluster);
}

async function startCluster() {
  const cluster = await startPostgres("pod-store-pg-");
  return {
    open: () => openStore({ databaseUrl: cluster.databaseUrl, dataDir: cluster.dir, poolSize: 8 }),
    cleanup: () => cluster.stop(),
  };
}
