/**
 * A real local chain for tests that run services as processes: `hardhat node --hostname 127.0.0.1` on a
 * free port, PodDevnet deployed with Ignition under its own deployment id (its
 * deployed_addresses.json is what services read through POD_DEPLOYMENT), and close() that stops
 * the node and removes the deployment folder.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Address } from "viem";
import PodDevnet from "../../ignition/modules/PodDevnet.ts";
import { paramName } from "./fixture.ts";
import { freePort } from "./ports.ts";

export { freePort };

const ROOT = join(import.meta.dirname, "../..");

/** Polls `attempt` (which must itself be bounded in time) until it gives a value. */
export async function eventually<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export type LocalChain = Awaited<ReturnType<typeof startLocalChain>>;

export type LocalChainOptions = {
  /** ProtocolParams values other than the defaults (e.g. short epochs). */
  params?: Readonly<Record<string, bigint>>;
  /** The oracle set (default: the deployer alone) and its quorum (default 1). */
  oracles?: readonly Address[];
  oracleQuorum?: bigint;
};

/** Starts the chain and deploys PodDevnet (deployer as guardian and security council). */
export async function startLocalChain(name: string, options: LocalChainOptions = {}) {
  const port = await freePort();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const chain: ChildProcess = spawn(process.execPath, [join(ROOT, "node_modules/hardhat/dist/src/cli.js"), "node", "--hostname", "127.0.0.1", "--port", String(port)], { cwd: ROOT, stdio: "ignore" });
  const deploymentId = `${name}-test-${process.pid}`;
  const deploymentDir = join(ROOT, "ignition/deployments", deploymentId);
  const { network } = await import("hardhat");
  let connection: Awaited<ReturnType<typeof network.connect>> | undefined;
  const close = async () => {
    await connection?.close();
    chain.kill("SIGTERM");
    await rm(deploymentDir, { recursive: true, force: true });
  };
  try {
    const rpc = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId" });
    await eventually("the local Hardhat chain", async () => (await fetch(rpcUrl, { signal: AbortSignal.timeout(5_000), method: "POST", headers: { "content-type": "application/json" }, body: rpc })).ok || undefined, 30_000);
    connection = await network.connect({ network: "localhost", override: { url: rpcUrl } });
    const [deployer] = await connection.viem.getWalletClients();
    const me = deployer!.account.address;
    const core = await connection.ignition.deploy(PodDevnet, {
      deploymentId,
      parameters: {
        PodDevnet: { oracles: options.oracles ?? [me], oracleQuorum: options.oracleQuorum ?? 1n, guardian: me, securityCouncil: me } as never,
        PodCore: { paramNames: Object.keys(options.params ?? {}).map(paramName), paramValues: Object.values(options.params ?? {}) },
      },
    });
    return { rpcUrl, connection, core, deploymentFile: join(deploymentDir, "deployed_addresses.json"), close };
  } catch (error) {
    await close();
    throw error;
  }
}
