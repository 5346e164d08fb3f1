/**
 * The indexer's end-to-end suite (suite.ts) on PostgreSQL: a throwaway cluster from Debian's
 * server binaries (test/helpers/postgres.ts). Skipped, saying why, where there are none.
 */
import { describe, it } from "node:test";
import { postgresUnavailable, startPostgres } from "../../test/helpers/postgres.ts";
import { indexerSuite } from "./suite.ts";

const skipReason = postgresUnavailable();

if (skipReason !== undefined) {
  describe("indexer on PostgreSQL", () => {
    it("runs against a throwaway PostgreSQL cluster", { skip: skipReason }, () => undefined);
  });
} else {
  indexerSuite("PostgreSQL", async () => {
    const cluster = await startPostgres("pod-indexer-pg-");
    return { databaseUrl: cluster.databaseUrl, stop: cluster.stop };
  });
}
