import type { NetworkConnection } from "hardhat/types/network";
import { parseEther, stringToHex, type Hex } from "viem";
import PodDevnet from "../../ignition/modules/PodDevnet.ts";

export const POD = 10n ** 18n;
export const DAY = 86_400n;
/** One POD buys this many sPOD shares in an empty vault (decimals offset 6). */
export const SHARES_PER_POD = 10n ** 24n;

/** A parameter's on-chain name: its ASCII name left-aligned in a bytes32. */
export const paramName = (name: string): Hex => stringToHex(name, { size: 32 });

export interface CoreOptions {
  timelockDelay?: bigint;
  votingDelay?: bigint;
  votingPeriod?: bigint;
  proposalThreshold?: bigint;
  params?: Record<string, bigint>;
  /** PodNetwork's own parameters (oracles, oracleQuorum, guardian, rewardsPoolFunding...). */
  network?: Record<string, unknown>;
}

/**
 * Deploys the whole protocol with the real Ignition module (PodDevnet: PodNetwork plus a devnet
 * stablecoin accepted as credit) and hands each of four users 1,000,000 POD from the treasury.
 */
export async function deployCore(connection: NetworkConnection, options: CoreOptions = {}) {
  const { viem, ignition } = connection;
  const overrides = Object.entries(options.params ?? {});
  const [deployer, alice, bob, carol, dave] = await viem.getWalletClients();
  if (!deployer || !alice || !bob || !carol || !dave) throw new Error("expected five funded accounts");
  const deployed = await ignition.deploy(PodDevnet, {
    parameters: {
      PodDevnet: {
        oracles: [deployer.account.address],
        guardian: deployer.account.address,
        securityCouncil: deployer.account.address,
        ...options.network,
      } as never,
      PodCore: {
        ...(options.timelockDelay !== undefined && { timelockDelay: options.timelockDelay }),
        ...(options.votingDelay !== undefined && { votingDelay: options.votingDelay }),
        ...(options.votingPeriod !== undefined && { votingPeriod: options.votingPeriod }),
        ...(options.proposalThreshold !== undefined && { proposalThreshold: options.proposalThreshold }),
        paramNames: overrides.map(([name]) => paramName(name)),
        paramValues: overrides.map(([, value]) => value),
      },
    },
  });
  for (const user of [alice, bob, carol, dave]) {
    await deployed.podToken.write.transfer([user.account.address, parseEther("1000000")]);
  }
  const publicClient = await viem.getPublicClient();
  return { ...deployed, deployer, alice, bob, carol, dave, publicClient };
}

export type Core = Awaited<ReturnType<typeof deployCore>>;

/** The timestamp of the latest block. */
export async function now(connection: NetworkConnection): Promise<bigint> {
  return BigInt(await connection.networkHelpers.time.latest());
}
