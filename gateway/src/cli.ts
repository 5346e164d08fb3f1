/**
 * pod-gateway: runs the gateway as a server. `pod-gateway --help` lists the environment it reads;
 * `pod-gateway [serve]` builds the node pool, the credit guard, the receipts store and the HTTP
 * API, listens on POD_GATEWAY_HOST:POD_GATEWAY_PORT (nodes join at /v1/nodes/ws) and, on SIGINT or
 * SIGTERM, stops accepting, lets requests in flight finish (bounded), closes the pool and store.
 */
import type { Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createPublicClient, http, webSocket, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { protocolParamsAbi } from "../../sdk/src/abi/contracts.ts";
import { createApp, type ApiLogger } from "./api/index.ts";
import { ConfigError, parseConfig, usage, type GatewayConfig } from "./config.ts";
import { CreditGuard, CreditVaultReader, ModelPriceReader, parsePricingConfig } from "./credit/index.ts";
import { NodePool, OnChainNodeAuthorizer } from "./pool/index.ts";
import { openStore } from "./store/index.ts";

/** How long requests in flight may take to finish at shutdown before their connections are cut. */
const DRAIN_MS = 30_000;

/** One JSON line per event on stderr. */
const log: ApiLogger = (level, message, fields) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
};

/** A settlement epoch is `length` seconds from `genesis` (ProtocolParams.epochSchedule). */
export function epochOf(unixMs: number, length: bigint, genesis: bigint): number {
  const seconds = BigInt(Math.floor(unixMs / 1000));
  return seconds < genesis ? 0 : Number((seconds - genesis) / length);
}

export async function serveGateway(config: GatewayConfig): Promise<{ server: Server; url: string; stop: () => Promise<void> }> {
  const account = privateKeyToAccount(config.gatewayKey);
  const transport = config.rpcUrl.startsWith("ws") ? webSocket(config.rpcUrl) : http(config.rpcUrl);
  const client = createPublicClient({ transport }) as PublicClient;
  const chainId = await client.getChainId();
  if (config.chainId !== undefined && config.chainId !== chainId) throw new ConfigError("POD_CHAIN_ID", `is ${config.chainId} but ${config.rpcUrl} serves chain ${chainId}`);
  const { contracts } = config;
  const [length, genesis] = await client.readContract({ address: contracts.protocolParams, abi: protocolParamsAbi, functionName: "epochSchedule" });
  if (length === 0n) throw new ConfigError("POD_PROTOCOL_PARAMS", `${contracts.protocolParams} reports an epoch length of 0`);

  const store = await openStore({ dataDir: config.dataDir, ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }) });
  const pool = new NodePool({
    gatewayId: config.gatewayId ?? account.address,
    chainId,
    authorizer: new OnChainNodeAuthorizer({ client, nodeRegistry: contracts.nodeRegistry, bondManager: contracts.bondManager, cacheTtlMs: config.chainCacheMs }),
    log,
  });
  const credit = new CreditGuard({
    vault: new CreditVaultReader({ client, creditVault: contracts.creditVault, ttlMs: config.chainCacheMs }),
    prices: new ModelPriceReader({ client, protocolParams: contracts.protocolParams, ttlMs: Math.max(config.chainCacheMs, 60_000) }),
    pricing: parsePricingConfig({ pod: contracts.podToken, stablecoins: config.stablecoins }),
  });
  const app = createApp({
    pool,
    credit,
    store,
    config: {
      chainId,
      vault: contracts.creditVault,
      gateway: account.address,
      epochAt: (unixMs) => epochOf(unixMs, length, genesis),
      log,
      recentResponses: config.flagBuffer,
      ...(config.sampling === undefined ? {} : { sampling: config.sampling }),
      ...(config.rateLimit === undefined ? {} : { rateLimit: config.rateLimit }),
      ...(config.receiptsToken === undefined ? {} : { receiptsToken: config.receiptsToken }),
    },
  });

  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s as Server)) as Server;
      s.once("error", reject);
    });
  } catch (error) {
    await pool.close();
    await store.close();
    throw error;
  }
  pool.attach(server);
  // HTTP requests in flight, for the drain at shutdown (nodes' WebSockets are not requests).
  let inFlight = 0;
  server.on("request", (_req, res: ServerResponse) => {
    inFlight++;
    res.once("close", () => inFlight--);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log("info", "pod-gateway listening", { url, nodes: `ws://${host}:${address.port}${pool.config.path}`, chainId, gateway: account.address, store: config.databaseUrl === undefined ? config.dataDir : "postgres" });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log("info", "pod-gateway stopping");
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Requests in flight finish on their nodes (bounded); only then are the nodes let go, since
      // the server's close waits for their sockets too.
      const cut = Date.now() + DRAIN_MS;
      while (inFlight > 0 && Date.now() < cut) await new Promise((resolve) => setTimeout(resolve, 20));
      server.closeAllConnections();
      await pool.close();
      await closed;
      await store.close();
      log("info", "pod-gateway stopped");
    })());
  return { server, url, stop };
}

async function main(args: readonly string[]): Promise<number> {
  const command = args[0] ?? "serve";
  if (command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(usage());
    return 0;
  }
  if (command !== "serve" || args.length > 1) {
    process.stderr.write(`pod-gateway: unknown arguments ${JSON.stringify(args)}\n\n${usage()}`);
    return 2;
  }
  const gateway = await serveGateway(parseConfig(process.env));
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await gateway.stop();
  return 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`pod-gateway: ${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
