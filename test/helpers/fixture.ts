import type { NetworkConnection } from "hardhat/types/network";
import { parseEther, stringToHex, type Hex } from "viem";
import PodCore from "../../ignition/modules/PodCore.ts";

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
}

/**
 * Deploys the staking core with the real Ignition module and hands each of three users
 * 1,000,000 POD from the treasury (the deployer).
 */
export async function deployCore(connection: NetworkConnection, options: CoreOptions = {}) {
  const { viem, ignition } = connection;
  const overrides = Object.entries(options.params ?? {});
  const deployed = await ignition.deploy(PodCore, {
    parameters: {
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
  const [deployer, alice, bob, carol, dave] = await viem.getWalletClients();
  if (!deployer || !alice || !bob || !carol || !dave) throw new Error("expected five funded accounts");
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
