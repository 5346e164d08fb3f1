/**
 * A network for the epoch pipeline's tests: the gateway fixture (in-process PodDevnet chain,
 * the API on 127.0.0.1, real worker nodes on the tiny model) deployed with three oracle keys
 * (quorum 2), a funded rewards pool and one-minute epochs, plus helpers to run oracles on it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { custom, getAddress, parseEther, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { startGateway, type TestGateway } from "../../gateway/test/fixtures.ts";
import { TINY } from "../../node/test/fixtures.ts";
import { POD } from "../../test/helpers/fixture.ts";
import { ORACLES, POOL_FUNDING } from "../../test/helpers/rewards.ts";
import type { OracleConfig } from "../src/pipeline/config.ts";
import type { Logger, OracleContext } from "../src/pipeline/context.ts";
import { startOracle, type RunningOracle } from "../src/pipeline/start.ts";

/** Hardhat's fifth default account: `dave`, the gateway's address in the gateway fixture. */
export const GATEWAY_KEY: Hex = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";
export const EPOCH_LENGTH = 60n;

export type PipelineWorld = Awaited<ReturnType<typeof startPipelineWorld>>;

export async function startPipelineWorld() {
  let epoch = 0;
  const gw: TestGateway = await startGateway({
    deploy: { params: { epochLength: EPOCH_LENGTH, rootChallengeWindow: 2n * EPOCH_LENGTH }, network: { oracles: ORACLES.map((o) => o.address), oracleQuorum: 2n, rewardsPoolFunding: POOL_FUNDING } },
    epochAt: () => epoch,
  });
  const { core, connection } = gw;
  for (const oracle of ORACLES) await connection.networkHelpers.setBalance(oracle.address, parseEther("100"));
  const [length, genesis] = await core.protocolParams.read.epochSchedule();
  const dirs: string[] = [];
  const oracles: RunningOracle[] = [];
  const logs: { oracle: number; level: string; message: string; fields?: Record<string, unknown> }[] = [];

  /**
   * Labels the gateway's next receipts with the chain's current epoch and returns it. (Every
   * transaction moves the in-process chain's clock by a second at least, so chain time, not the
   * wall clock, says which epoch it is.)
   */
  async function beginEpoch(): Promise<number> {
    const latest = BigInt(await connection.networkHelpers.time.latest());
    epoch = Number((latest - genesis) / length);
    return epoch;
  }

  /** Moves the chain past epoch n's close (one block after it), so it can be closed. */
  async function closeEpoch(n: number): Promise<void> {
    const closesAt = genesis + BigInt(n + 1) * length;
    const latest = BigInt(await connection.networkHelpers.time.latest());
    await connection.networkHelpers.time.increaseTo(closesAt > latest ? closesAt : latest + 1n);
  }

  /** Starts oracle `index` (ORACLES[index]) on the shared chain; index 0 also settles for the gateway. */
  async function oracle(index: number, options: { dataDir?: string; lastEpoch?: number; hooks?: OracleContext["hooks"]; invalidationsDir?: string; gateways?: string[] } = {}): Promise<RunningOracle & { dataDir: string }> {
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), `pod-oracle-${index}-`)));
    dirs.push(dataDir);
    const config: OracleConfig = {
      rpcUrl: "http://127.0.0.1:8545",
      contracts: {
        protocolParams: getAddress(core.protocolParams.address),
        rewardsDistributor: getAddress(core.rewardsDistributor.address),
        bondManager: getAddress(core.bondManager.address),
        nodeRegistry: getAddress(core.nodeRegistry.address),
        creditVault: getAddress(core.creditVault.address),
        buyback: getAddress(core.buyback.address),
      },
      oracleKey: oracleKeys[index] as Hex,
      settlerKey: index === 0 ? GATEWAY_KEY : undefined,
      gateways: (options.gateways ?? [gw.baseURL.replace(/\/v1$/, "")]).map((url) => ({ url, token: undefined })),
      peers: [],
      invalidationsDir: options.invalidationsDir,
      invalidationsUrls: [],
      buybackAssets: [getAddress(core.podToken.address), gw.usd],
      host: "127.0.0.1",
      port: 0,
      publicUrl: "",
      dataDir,
      closeGraceMs: 0,
      pollMs: 50,
    };
    const log: Logger = (level, message, fields) => {
      logs.push({ oracle: index, level, message, ...(fields === undefined ? {} : { fields }) });
    };
    const running = await startOracle(config, {
      log,
      transport: custom(connection.provider),
      ...(options.lastEpoch === undefined ? {} : { lastEpoch: options.lastEpoch }),
      ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
    });
    oracles.push(running);
    return { ...running, dataDir };
  }

  /** Makes the given oracles (default: every one started) peers of each other. */
  function connectPeers(among: readonly RunningOracle[] = oracles): void {
    for (const o of among) o.setPeers(among.filter((p) => p !== o).map((p) => p.url));
  }

  /** Sends `count` chat requests at once through the official client. */
  async function chat(apiKey: string, count: number): Promise<void> {
    const client = new OpenAI({ apiKey, baseURL: gw.baseURL, maxRetries: 0, timeout: 30_000 });
    await Promise.all(
      Array.from({ length: count }, (_, i) => client.chat.completions.create({ model: TINY, messages: [{ role: "user", content: `hello ${i}` }], max_tokens: 8, seed: i })),
    );
  }

  async function close(): Promise<void> {
    await Promise.all(oracles.map((o) => o.stop()));
    await gw.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }

  return { gw, core, connection, beginEpoch, closeEpoch, oracle, connectPeers, chat, logs, close, POD };
}

/** The private keys behind ORACLES (test/helpers/rewards.ts), in the same (address) order. */
const oracleKeys: readonly Hex[] = (() => {
  const keys: Hex[] = [
    "0x6a1e1f4c7a4b4e2f9d03c0b0a5f3a7e1c2d4b6a8e0f1a3c5b7d9e1f3a5c7e9b1",
    "0x3b5d7f9a1c3e5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5a7c9e1b3d5f7a9c1e3b5d",
    "0x9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
  ];
  return ORACLES.map((o) => keys.find((k) => privateKeyToAddress(k) === o.address) as Hex);
})();

function privateKeyToAddress(key: Hex): Address {
  return privateKeyToAccount(key).address;
}
