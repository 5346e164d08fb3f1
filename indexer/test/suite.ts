/**
 * The indexer's end-to-end suite, run on each database (indexer.test.ts: embedded PGlite;
 * indexer.postgres.test.ts: a throwaway PostgreSQL cluster): a real local chain, the indexer as
 * a process and a test oracle serving epoch reports (scenario.ts says what each step checks),
 * then a restart that resumes from its checkpoint instead of indexing from zero.
 * Not a test file itself.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parseEther } from "viem";
import { startLocalChain, type LocalChain } from "../../test/helpers/localChain.ts";
import { graphql, removeDir, startIndexer, startReportServer, waitForBlock, type ReportServer, type RunningIndexer } from "./fixture.ts";
import { assertContractsIndexed, claimScenario, exerciseContracts, governanceScenario, oracleDownScenario, tamperScenario, worldOf, type World } from "./scenario.ts";
import type { BuiltReport } from "./reports.ts";

/** Where the indexer keeps its tables: a PostgreSQL URL, or undefined for a fresh PGlite folder. */
export type DatabaseHarness = { databaseUrl: string | undefined; stop: () => Promise<void> };

export function indexerSuite(name: string, startDatabase: () => Promise<DatabaseHarness>): void {
  describe(`indexer on ${name}`, { timeout: 240_000 }, () => {
    let chain: LocalChain;
    let database: DatabaseHarness;
    let oracle: ReportServer;
    let indexer: RunningIndexer;
    let world: World;
    let epoch0: BuiltReport;
    const start = (dataDir?: string) => startIndexer({ rpcUrl: chain.rpcUrl, deploymentFile: chain.deploymentFile, oracleUrls: [oracle.url], databaseUrl: database.databaseUrl, dataDir });

    before(async () => {
      [chain, database, oracle] = await Promise.all([startLocalChain(`indexer-${name.toLowerCase()}`), startDatabase(), startReportServer()]);
      world = await worldOf(chain);
      indexer = await start();
    });
    after(async () => {
      await indexer?.stop();
      await removeDir(indexer?.dataDir);
      await oracle?.close();
      await database?.stop();
      await chain?.close();
    });

    test("actions on every contract show up in GraphQL with the chain's values", async () => {
      await exerciseContracts(world);
      await assertContractsIndexed(world, indexer.url);
    });

    test("a claim proof served by the indexer is accepted on-chain", async () => {
      epoch0 = await claimScenario(world, indexer.url, oracle);
    });

    test("a tampered report is a mismatch naming the account, before the window ends", async () => {
      await tamperScenario(world, indexer.url, oracle, epoch0);
    });

    test("an epoch stays pending while no oracle answers, then matches", async () => {
      await oracleDownScenario(world, indexer.url, oracle, epoch0);
    });

    test("a governance proposal, its votes and the parameter change", async () => {
      await governanceScenario(world, indexer.url);
    });

    test("a restart resumes from its checkpoint without indexing from zero", async () => {
      const before = await graphql<{ contractEvents: { totalCount: number } }>(indexer.url, "{ contractEvents { totalCount } }");
      await indexer.stop();
      const receipt = await world.mined(chain.core.podToken.write.transfer([world.bob, parseEther("1")]));
      indexer = await start(indexer.dataDir);
      await waitForBlock(indexer.url, await world.head());
      assert.match(indexer.output(), /Detected crash recovery/);
      const after = await graphql<{ contractEvents: { totalCount: number } }>(indexer.url, "{ contractEvents { totalCount } }");
      assert.equal(after.contractEvents.totalCount, before.contractEvents.totalCount + receipt.logs.length);
    });
  });
}
