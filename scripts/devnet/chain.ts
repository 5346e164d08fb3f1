/**
 * The devnet chain: `hardhat node --hostname 127.0.0.1` on hardhat.config.ts's `devnet` network,
 * mining a block every second (services that wait for an epoch's close need blocks to keep
 * coming when nobody transacts) at wall-clock timestamps, and the
 * PodDevnet Ignition module deployed on it with devnet timings: short epochs, a short challenge
 * window and governance that takes about half a minute.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Address } from "viem";
import PodDevnet from "../../ignition/modules/PodDevnet.ts";
import { parameterKey } from "../../sdk/src/actions/governance.ts";
import { podContracts } from "../../sdk/src/client.ts";
import { parseDeployment } from "../../sdk/src/deployment.ts";
import { DEVNET_ACCOUNTS, ORACLES } from "./accounts.ts";
import type { ProcessGroup } from "./processes.ts";

export const DEPLOYMENT_ID = "devnet";

export type DevnetTimings = {
  /** Seconds per settlement epoch. */
  epochSeconds: number;
  /** Seconds a proposed root waits before it is claimable. */
  challengeSeconds: number;
  /** Governor voting delay and period, and the timelock's delay (seconds). */
  votingDelay: number;
  votingPeriod: number;
  timelockDelay: number;
};

/** Contract names of devnet.json. */
export type ContractName =
  | "PodToken" | "StakedPod" | "BondManager" | "NodeRegistry" | "CreditVault" | "Buyback"
  | "RewardsDistributor" | "ProtocolParams" | "Governor" | "Timelock" | "Stablecoin" | "NodeReports";
export type DevnetContracts = { readonly [C in ContractName]: Address };

/** Starts the node on `port` and waits until it answers JSON-RPC. */
export async function startChain(group: ProcessGroup, options: { root: string; port: number; logDir: string }): Promise<string> {
  const rpcUrl = `http://127.0.0.1:${options.port}`;
  const cli = join(options.root, "node_modules/hardhat/dist/src/cli.js");
  const chain = group.start("chain", cli, ["node", "--hostname", "127.0.0.1", "--port", String(options.port), "--network", "devnet"], { cwd: options.root, logDir: options.logDir, env: { HARDHAT_DISABLE_TELEMETRY: "true" } });
  await chain.waitUntil(`JSON-RPC on ${rpcUrl}`, async () => (await rpc(rpcUrl, "eth_chainId", [])) !== undefined, 60_000);
  return rpcUrl;
}

/** Deploys PodDevnet (replacing an earlier devnet deployment record) and returns its addresses. */
export async function deployContracts(options: { root: string; rpcUrl: string; timings: DevnetTimings; rewardsPoolFunding: bigint }): Promise<{ contracts: DevnetContracts; deploymentFile: string }> {
  const deploymentDir = join(options.root, "ignition/deployments", DEPLOYMENT_ID);
  await rm(deploymentDir, { recursive: true, force: true });
  const { network } = await import("hardhat");
  const connection = await network.connect({ network: "localhost", override: { url: options.rpcUrl } });
  try {
    const deployer = DEVNET_ACCOUNTS.deployer.account.address;
    const { timings } = options;
    const params: Record<string, bigint> = {
      epochLength: BigInt(timings.epochSeconds),
      rootChallengeWindow: BigInt(timings.challengeSeconds),
      // A withdrawal waits at least two epochs, so usage already served always settles first.
      creditWithdrawalDelay: BigInt(3 * timings.epochSeconds),
      // One request in five goes to the validator, enough to see it work on a quiet devnet.
      samplingRatePpm: 200_000n,
    };
    await connection.ignition.deploy(PodDevnet, {
      deploymentId: DEPLOYMENT_ID,
      parameters: {
        PodDevnet: {
          oracles: ORACLES.map((o) => o.account.address),
          oracleQuorum: BigInt(ORACLES.length),
          guardian: deployer,
          securityCouncil: deployer,
          securityDelay: BigInt(timings.timelockDelay),
          rewardsPoolFunding: options.rewardsPoolFunding,
        } as never,
        PodCore: {
          votingDelay: BigInt(timings.votingDelay),
          votingPeriod: BigInt(timings.votingPeriod),
          timelockDelay: BigInt(timings.timelockDelay),
          paramNames: Object.keys(params).map(parameterKey),
          paramValues: Object.values(params),
        },
      },
    });
    const deploymentFile = join(deploymentDir, "deployed_addresses.json");
    const c = podContracts(parseDeployment(await readFile(deploymentFile, "utf8"), deploymentFile));
    if (c.stablecoin === undefined) throw new Error(`${deploymentFile} has no DevStablecoin`);
    const contracts: DevnetContracts = {
      PodToken: c.podToken,
      StakedPod: c.stakedPod,
      BondManager: c.bondManager,
      NodeRegistry: c.nodeRegistry,
      CreditVault: c.creditVault,
      Buyback: c.buyback,
      RewardsDistributor: c.rewardsDistributor,
      ProtocolParams: c.protocolParams,
      Governor: c.governor,
      Timelock: c.timelock,
      Stablecoin: c.stablecoin,
      NodeReports: c.nodeReports,
    };
    return { contracts, deploymentFile };
  } finally {
    await connection.close();
  }
}

/** One JSON-RPC call; undefined when the node does not answer (yet). */
export async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(5_000),
  }).catch(() => undefined);
  if (response === undefined || !response.ok) return undefined;
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}
