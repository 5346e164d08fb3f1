/**
 * The SDK's actions against the real protocol: PodDevnet deployed on an in-process Hardhat chain,
 * SDK clients for each test wallet built from a devnet.json-shaped `contracts` map, and a check
 * that an action rejects with the typed error of a given custom error.
 */
import assert from "node:assert/strict";
import { getAddress } from "viem";
import { createPodClient, podContractsFromDevnet, type PodClient } from "../src/client.ts";
import { isPodContractError, type PodContractError, type PodErrorName } from "../src/errors.ts";
import type { Core } from "../../test/helpers/fixture.ts";
import type { Wallet } from "../../test/helpers/unit.ts";

/** devnet.json's `contracts` map of a deployment (the names the devnet writes). */
export function devnetContracts(core: Core) {
  return {
    contracts: {
      PodToken: core.podToken.address,
      StakedPod: core.stakedPod.address,
      BondManager: core.bondManager.address,
      NodeRegistry: core.nodeRegistry.address,
      CreditVault: core.creditVault.address,
      Buyback: core.buyback.address,
      RewardsDistributor: core.rewardsDistributor.address,
      ProtocolParams: core.protocolParams.address,
      Governor: core.governor.address,
      Timelock: core.timelock.address,
      Stablecoin: core.stablecoin.address,
      NodeReports: core.nodeReports.address,
    },
  };
}

/** An SDK client acting as `wallet`. */
export function podFor(core: Core, wallet: Wallet, indexerUrl?: string): PodClient {
  return createPodClient({ publicClient: core.publicClient, walletClient: wallet, deployment: podContractsFromDevnet(devnetContracts(core)), indexerUrl });
}

export const addressOf = (wallet: Wallet) => getAddress(wallet.account.address);

/**
 * Asserts that `action` rejects with PodContractError `name` and returns the error, its args
 * typed after the contract's error.
 */
export async function rejectsWith<name extends PodErrorName>(action: Promise<unknown>, name: name): Promise<PodContractError<name>> {
  let caught: unknown;
  await assert.rejects(action, (error: unknown) => {
    caught = error;
    assert.ok(isPodContractError(error, name), `expected ${name}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    assert.match(error.message, new RegExp(`reverted: ${name}\\(`));
    return true;
  });
  return caught as PodContractError<name>;
}
