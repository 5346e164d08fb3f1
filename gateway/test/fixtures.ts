/**
 * A whole gateway for tests: an in-process PodDevnet chain (the tiny model priced on-chain),
 * the node pool and the HTTP API on one server bound to 127.0.0.1, a PGlite receipts store in a
 * temp folder, and real worker nodes on the tiny model. Everything started is stopped by close().
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { network } from "hardhat";
import { getAddress, parseUnits, stringToHex, type Address, type LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createApiKey } from "../../sdk/src/apiKey.ts";
import { settlementDomain, signNodeKeyOwnership, type SpendGrant } from "../../sdk/src/typedData.ts";
import { GatewayClient } from "../../node/src/gateway/client.ts";
import { NodeService } from "../../node/src/service.ts";
import { loadTiny, TINY } from "../../node/test/fixtures.ts";
import { deployCore, type Core, type CoreOptions } from "../../test/helpers/fixture.ts";
import { actAsTimelock, SAMPLE_MODEL_PARAMS, type Wallet } from "../../test/helpers/unit.ts";
import { createApp, type ApiDeps } from "../src/api/index.ts";
import { CreditGuard, CreditVaultReader, ModelPriceReader, parsePricingConfig } from "../src/credit/index.ts";
import { NodePool, OnChainNodeAuthorizer } from "../src/pool/index.ts";
import { openStore, type ReceiptStore } from "../src/store/index.ts";

export const USD = 10n ** 6n;
/** One POD costs $0.25 at the test gateway. */
export const UNITS_PER_POD = parseUnits("0.25", 6);
export const EPOCH = 7;

export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export type TestNode = { key: LocalAccount; service: NodeService; client: GatewayClient };

export type TestGateway = Awaited<ReturnType<typeof startGateway>>;

/**
 * Deploys PodDevnet with the tiny model enabled, starts the pool and the API on a random port.
 * `wrapStore` lets a test observe the store the API writes to.
 */
export async function startGateway(
  options: {
    wrapStore?: (store: ReceiptStore) => ApiDeps["store"];
    /** Deployment options (oracles, parameters...) passed to deployCore. */
    deploy?: CoreOptions;
    /** The epoch the gateway labels receipts with (default: EPOCH). */
    epochAt?: () => number;
    /** fsync each (group) commit, as production does (default off: faster tests). */
    syncCommits?: boolean;
    /** How long chain reads are reused (default 0: every check reads the chain). */
    chainCacheMs?: number;
    /** Keyed sampling for validators (ApiConfig.sampling; default off). */
    sampling?: { salt: string; ratePpm: number };
    /** The buffer of unsampled pairs kept for flags (ApiConfig.recentResponses; default API_DEFAULTS'). */
    recentResponses?: { maxEntries: number; maxAgeMs: number };
  } = {},
) {
  const connection = await network.create();
  const core: Core = await deployCore(connection, options.deploy);
  const chainId = await core.publicClient.getChainId();
  const timelock = await actAsTimelock(connection, core);
  await core.protocolParams.write.setModelParams([stringToHex(TINY, { size: 32 }), SAMPLE_MODEL_PARAMS], { account: timelock });
  const usd = getAddress(core.stablecoin.address);
  const vault = getAddress(core.creditVault.address);
  const gateway = getAddress(core.dave.account.address);

  const dataDir = await mkdtemp(join(tmpdir(), "pod-gw-api-"));
  const store = await openStore({ dataDir, syncCommits: options.syncCommits ?? false });
  const chainCacheMs = options.chainCacheMs ?? 0;
  const pool = new NodePool({
    gatewayId: "gw-api-test",
    chainId,
    authorizer: new OnChainNodeAuthorizer({ client: core.publicClient, nodeRegistry: core.nodeRegistry.address, bondManager: core.bondManager.address, cacheTtlMs: chainCacheMs }),
    reauthorizeIntervalMs: 60_000,
    stallTimeoutMs: 10_000,
  });
  const credit = new CreditGuard({
    vault: new CreditVaultReader({ client: core.publicClient, creditVault: vault, ttlMs: chainCacheMs }),
    prices: new ModelPriceReader({ client: core.publicClient, protocolParams: getAddress(core.protocolParams.address), ttlMs: 60_000 }),
    pricing: parsePricingConfig({ pod: getAddress(core.podToken.address), stablecoins: [{ asset: usd, unitsPerPod: UNITS_PER_POD }] }),
  });
  const app = createApp({ pool, credit, store: options.wrapStore?.(store) ?? store, config: { chainId, vault, gateway, epochAt: options.epochAt ?? (() => EPOCH), ...(options.sampling === undefined ? {} : { sampling: options.sampling }), ...(options.recentResponses === undefined ? {} : { recentResponses: options.recentResponses }) } });
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s as Server));
  });
  pool.attach(server);
  const port = (server.address() as AddressInfo).port;
  const baseURL = `http://127.0.0.1:${port}/v1`;
  const clients: GatewayClient[] = [];

  /** Registers a fresh node key for `owner` and starts a real worker on the tiny model. */
  async function startNode(owner: Wallet = core.alice): Promise<TestNode> {
    const key = privateKeyToAccount(generatePrivateKey());
    const nonce = await core.nodeRegistry.read.keyNonce([key.address]);
    const proof = await signNodeKeyOwnership(key, { account: owner.account.address, nonce, chainId, registry: core.nodeRegistry.address });
    await core.nodeRegistry.write.registerNode([key.address, [stringToHex(TINY, { size: 32 })], "ipfs://node", proof], { account: owner.account });
    const service = new NodeService(key, [await loadTiny()], { maxBatch: 8, maxPrefillTokens: 4096, chainId });
    const client = new GatewayClient(service, { url: `ws://127.0.0.1:${port}/v1/nodes/ws`, nodeVersion: "test", calibratedTokensPerSecond: 100, statusIntervalMs: 60_000, reconnectMinMs: 50, reconnectMaxMs: 200 });
    clients.push(client);
    const ready = new Promise<void>((resolve) => {
      client.onStateChange = (state) => state === "ready" && resolve();
    });
    client.start();
    await ready;
    return { key, service, client };
  }

  /** Deposits `amount` of the devnet stablecoin for `user`. */
  async function deposit(user: Wallet, amount: bigint): Promise<void> {
    await core.stablecoin.write.mint([user.account.address, amount]);
    await core.stablecoin.write.approve([vault, amount], { account: user.account });
    await core.creditVault.write.deposit([usd, amount], { account: user.account });
  }

  /** An API key of `user` for this gateway in the stablecoin. */
  async function apiKey(user: Wallet, fields: Partial<SpendGrant> = {}): Promise<{ key: string; grant: SpendGrant }> {
    const grant: SpendGrant = {
      account: getAddress(user.account.address),
      gateway,
      asset: usd,
      cap: 100n * USD,
      expiry: BigInt(Math.floor(Date.now() / 1000)) + 86_400n,
      nonce: 1n,
      ...fields,
    };
    return { grant, key: await createApiKey(user, grant, { chainId, vault }) };
  }

  async function close(): Promise<void> {
    await Promise.all(clients.map((c) => c.leave("test over")));
    await pool.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    await connection.close();
    await rm(dataDir, { recursive: true, force: true });
  }

  return { connection, core, chainId, usd, vault, gateway: gateway as Address, store, pool, credit, baseURL, startNode, deposit, apiKey, close };
}
