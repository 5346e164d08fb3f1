/**
 * The indexer end to end on embedded PGlite: a real local chain, the indexer as a process and a
 * test oracle serving epoch reports (see scenario.ts for what each step checks); then a restart
 * that resumes from its checkpoint instead of indexing from zero.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parseEther } from "viem";
import { startLocalChain, type LocalChain } from "../../test/helpers/localChain.ts";
import { graphql, removeDir, startIndexer, startReportServer, waitForBlock, type ReportServer, type RunningIndexer } from "./fixture.ts";
import { assertContractsIndexed, claimScenario, exerciseContracts, governanceScenario, oracleDownScenario, tamperScenario, worldOf, type World } from "./scenario.ts";
import type { BuiltReport } from "./reports.ts";

describe("indexer on PGlite", { timeout: 240_000 }, () => {
  let chain: LocalChain;
  let oracle: ReportServer;
  let indexer: RunningIndexer;
  let world: World;
  let epoch0: BuiltReport;

  before(async () => {
    chain = await startLocalChain("indexer");
    oracle = await startReportServer();
    world = await worldOf(chain);
    indexer = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentFile: chain.deploymentFile, oracleUrls: [oracle.url] });
  });
  after(async () => {
    await indexer?.stop();
    await removeDir(indexer?.dataDir);
    await oracle?.close();
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
    const stoppedAt = Date.now();
    const receipt = await world.mined(chain.core.podToken.write.transfer([world.bob, parseEther("1")]));
    indexer = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentFile: chain.deploymentFile, oracleUrls: [oracle.url], dataDir: indexer.dataDir });
    await waitForBlock(indexer.url, await world.head());
    console.log(`restarted and caught up in ${Date.now() - stoppedAt} ms`);
    assert.match(indexer.output(), /Detected crash recovery/);
    const after = await graphql<{ contractEvents: { totalCount: number } }>(indexer.url, "{ contractEvents { totalCount } }");
    assert.equal(after.contractEvents.totalCount, before.contractEvents.totalCount + receipt.logs.length);
  });
});
