/**
 * Starts one oracle: chain clients from the config, its HTTP server (reports, signature, status,
 * metrics) and the epoch loop. `startOracle` is what `pod-oracle run` calls and what tests use
 * to run several oracles in one process.
 */
import { createPublicClient, createWalletClient, http, type LocalAccount, type PublicClient, type Transport } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { OracleMetrics } from "../cosign/metrics.ts";
import { createOracleServer, serveOracle, type ServedOracle } from "../cosign/server.ts";
import { parseSignedEpochRoot } from "../cosign/signedRoot.ts";
import type { OracleConfig } from "./config.ts";
import type { Logger, OracleContext, SigningWallet } from "./context.ts";
import type { PipelineStep } from "./epoch.ts";
import { EpochFiles } from "./files.ts";
import { OracleRunner } from "./runner.ts";

export type StartOptions = {
  log: Logger;
  /** Defaults to an HTTP transport to config.rpcUrl (tests pass their in-process provider). */
  transport?: Transport;
  hooks?: OracleContext["hooks"];
  /** Run epochs up to this one, then stop (tests); forever when absent. */
  lastEpoch?: number;
};

export type RunningOracle = {
  address: `0x${string}`;
  url: string;
  runner: OracleRunner;
  /** Settles when the loop ends (after stop(), at lastEpoch, or on a fatal error). */
  done: Promise<void>;
  /** Other oracles' base URLs (tests learn them only once every oracle listens). */
  setPeers(peers: readonly string[]): void;
  stop(): Promise<void>;
};

export async function startOracle(config: OracleConfig, options: StartOptions): Promise<RunningOracle> {
  const transport = options.transport ?? http(config.rpcUrl);
  const client = createPublicClient({ transport }) as PublicClient;
  const chainId = await client.getChainId();
  const chain = { id: chainId, name: `chain ${chainId}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [config.rpcUrl] } } };
  const oracle: LocalAccount = privateKeyToAccount(config.oracleKey);
  const wallet = (account: LocalAccount): SigningWallet => createWalletClient({ account, chain, transport });
  const files = new EpochFiles(config.dataDir);
  const metrics = new OracleMetrics();
  const ctx: OracleContext = {
    client,
    chainId,
    contracts: config.contracts,
    oracle,
    oracleWallet: wallet(oracle),
    settler: config.settlerKey === undefined ? undefined : wallet(privateKeyToAccount(config.settlerKey)),
    gateways: config.gateways.map((g) => (g.token === undefined ? { url: g.url } : { url: g.url, token: g.token })),
    fetchOptions: {},
    peers: config.peers,
    invalidations: { dir: config.invalidationsDir, urls: config.invalidationsUrls },
    buybackAssets: config.buybackAssets,
    files,
    log: options.log,
    metrics,
    timing: { closeGraceMs: config.closeGraceMs, pollMs: config.pollMs, peerTimeoutMs: Math.min(10_000, Math.max(1_000, config.pollMs)) },
    hooks: options.hooks ?? {},
  };
  const runner = new OracleRunner(ctx);
  const lastOf = (step: PipelineStep): number | null => runner.status().lastDone[step] ?? null;
  const served: ServedOracle = await serveOracle(
    createOracleServer({
      reportOf: (epoch) => files.readReport(epoch),
      signatureOf: async (epoch) => {
        const text = await files.readSignature(epoch);
        return text === null ? null : parseSignedEpochRoot(JSON.parse(text), `signature of epoch ${epoch}`);
      },
      status: () => ({ ...runner.status(), lastComputed: lastOf("signed"), lastProposed: lastOf("proposed"), lastSettled: lastOf("settled") }),
      registry: metrics.registry,
    }),
    { host: config.host, port: config.port },
  );
  options.log("info", "pod-oracle listening", { url: served.url, oracle: oracle.address, chainId, settler: ctx.settler?.account.address ?? "none", gateways: config.gateways.map((g) => g.url), peers: config.peers });
  const abort = new AbortController();
  let closing: Promise<void> | undefined;
  const done = runner.run(abort.signal, options.lastEpoch);
  // The loop's fate is reported through `done`; keep an unobserved failure from crashing the process.
  done.catch(() => {});
  return {
    address: oracle.address,
    url: served.url,
    runner,
    done,
    setPeers(peers) {
      ctx.peers = peers;
    },
    async stop() {
      abort.abort();
      await done.catch(() => {});
      closing ??= served.close();
      await closing;
    },
  };
}
