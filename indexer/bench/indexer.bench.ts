/**
 * `npm run bench:indexer [-- --transfers N]`: indexing speed on a backfill. Starts a local
 * `hardhat node --hostname 127.0.0.1` with the protocol deployed, makes N POD transfers between
 * accounts that delegate their votes (3 events each: Transfer and two DelegateVotesChanged),
 * mined in blocks of a few hundred, then starts the indexer on a fresh PGlite folder and times
 * it from zero to the head. Prints events, seconds and events/s: Ponder's own backfill time
 * (from its log) and the wall clock from process start to the head indexed.
 */
import { parseArgs } from "node:util";
import { encodeFunctionData, parseEther, type Address } from "viem";
import { startLocalChain } from "../../test/helpers/localChain.ts";
import { graphql, indexedBlock, removeDir, startIndexer, waitForBlock } from "../test/fixture.ts";

const USAGE = `Usage: npm run bench:indexer [-- --transfers N] [--batch N]

  --transfers N  POD transfers to make (default 3500: about 10,500 events)
  --batch N      transfers per mined block (default 250)
`;

const { values: options } = parseArgs({ options: { transfers: { type: "string", default: "3500" }, batch: { type: "string", default: "250" }, help: { type: "boolean", default: false } } });
if (options.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const transfers = Number(options.transfers);
const batch = Number(options.batch);
if (!Number.isSafeInteger(transfers) || transfers < 1 || !Number.isSafeInteger(batch) || batch < 1) {
  process.stderr.write(`--transfers and --batch must be positive integers\n\n${USAGE}`);
  process.exit(2);
}

async function rpc(url: string, calls: readonly { method: string; params: readonly unknown[] }[]): Promise<unknown[]> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(calls.map((c, id) => ({ jsonrpc: "2.0", id, ...c }))),
  });
  const answers = (await response.json()) as { id: number; result?: unknown; error?: { message: string } }[];
  for (const a of answers) if (a.error) throw new Error(`${calls[a.id]?.method}: ${a.error.message}`);
  return answers.sort((x, y) => x.id - y.id).map((a) => a.result);
}

/** Mines blocks until every holder's pending transactions are in one (a block holds what its gas limit allows). */
async function mineAllPending(url: string, holders: readonly Address[]): Promise<void> {
  for (;;) {
    const counts = (await rpc(url, holders.flatMap((h) => [{ method: "eth_getTransactionCount", params: [h, "latest"] }, { method: "eth_getTransactionCount", params: [h, "pending"] }]))) as string[];
    if (counts.every((c, i) => i % 2 === 1 || c === counts[i + 1])) return;
    await rpc(url, [{ method: "evm_mine", params: [] }]);
  }
}

const chain = await startLocalChain("indexer-bench");
let indexer: Awaited<ReturnType<typeof startIndexer>> | undefined;
try {
  const { core, connection } = chain;
  const publicClient = await connection.viem.getPublicClient();
  const wallets = await connection.viem.getWalletClients();
  const holders = wallets.slice(1, 5).map((w) => w.account.address) as Address[];
  for (const holder of holders) {
    await publicClient.waitForTransactionReceipt({ hash: await core.podToken.write.transfer([holder, parseEther("1000000")]) });
    await publicClient.waitForTransactionReceipt({ hash: await core.podToken.write.delegate([holder], { account: holder }) });
  }
  const generateStarted = performance.now();
  await rpc(chain.rpcUrl, [{ method: "evm_setAutomine", params: [false] }]);
  for (let sent = 0; sent < transfers; sent += batch) {
    const calls = [];
    for (let i = sent; i < Math.min(transfers, sent + batch); i++) {
      const from = holders[i % holders.length]!;
      const to = holders[(i + 1) % holders.length]!;
      const data = encodeFunctionData({ abi: core.podToken.abi, functionName: "transfer", args: [to, 1n + BigInt(i)] });
      calls.push({ method: "eth_sendTransaction", params: [{ from, to: core.podToken.address, data, gas: "0x249f0" }] });
    }
    await rpc(chain.rpcUrl, calls);
    await mineAllPending(chain.rpcUrl, holders);
    process.stderr.write(`\rsent ${Math.min(transfers, sent + batch)} / ${transfers} transfers`);
  }
  process.stderr.write("\n");
  // Ponder treats the last 30 blocks of chain 31337 as unfinalized (indexed live, not backfilled).
  // evm_mine one by one: hardhat_mine's reserved blocks confuse Ponder's reorg check.
  for (let i = 0; i < 40; i++) await rpc(chain.rpcUrl, [{ method: "evm_mine", params: [] }]);
  await rpc(chain.rpcUrl, [{ method: "evm_setAutomine", params: [true] }]);
  const head = await publicClient.getBlockNumber();
  const generateSeconds = (performance.now() - generateStarted) / 1000;

  process.stderr.write(`head ${head}; starting the indexer\n`);
  const started = performance.now();
  indexer = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentFile: chain.deploymentFile });
  await waitForBlock(indexer.url, head, Number(process.env.POD_BENCH_TIMEOUT_MS ?? 540_000)).catch((error: unknown) => {
    process.stderr.write(`${indexer?.output().slice(-3_000)}\n`);
    throw error;
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const { contractEvents } = await graphql<{ contractEvents: { totalCount: number } }>(indexer.url, "{ contractEvents { totalCount } }");
  const events = contractEvents.totalCount;
  const backfillLine = indexer.output().split("\n").find((line) => line.includes("Completed backfill indexing"));
  const backfillSeconds = backfillLine ? Number((JSON.parse(backfillLine) as { duration: number }).duration) / 1000 : Number.NaN;
  // Time spent in indexing functions and database writes, apart from fetching from the RPC.
  const indexingSeconds = indexer.output().split("\n").filter((line) => line.includes('"Indexed block range"'))
    .reduce((sum, line) => sum + Number((JSON.parse(line) as { duration: number }).duration) / 1000, 0);
  const rate = (seconds: number) => Math.round(events / seconds).toLocaleString("en-US");
  process.stdout.write([
    `generated ${transfers} transfers up to block ${head} in ${generateSeconds.toFixed(1)} s`,
    `indexed head ${await indexedBlock(indexer.url)}; events indexed: ${events}`,
    `Ponder backfill (its log, RPC fetching included): ${backfillSeconds.toFixed(2)} s -> ${rate(backfillSeconds)} events/s`,
    `of which indexing functions and writes (its "Indexed block range" lines): ${indexingSeconds.toFixed(2)} s -> ${rate(indexingSeconds)} events/s`,
    `wall clock from process start to head (build, database, backfill, live tail): ${wallSeconds.toFixed(2)} s -> ${rate(wallSeconds)} events/s`,
    "",
  ].join("\n"));
} finally {
  await indexer?.stop();
  await removeDir(indexer?.dataDir);
  await chain.close();
}
