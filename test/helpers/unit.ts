import type { NetworkConnection } from "hardhat/types/network";
import { getAddress, keccak256, parseEventLogs, stringToHex, toHex, type Abi, type Address, type Hash } from "viem";
import type { Core } from "./fixture.ts";

/** A funded test wallet (alice, bob, carol, dave, deployer). */
export type Wallet = Core["alice"];

/** 1e27: the scale of StakedPod's assets-per-share rate. */
export const RATE_SCALE = 10n ** 27n;
/** The vault's virtual-share offset: 10 ** 6. */
export const VIRTUAL_SHARES = 10n ** 6n;
/** The rate of an empty vault: 1 wei of virtual assets over 1e6 virtual shares. */
export const EMPTY_VAULT_RATE = RATE_SCALE / VIRTUAL_SHARES;

export const role = (name: string): Hash => keccak256(toHex(name));

/** Lets the tests send transactions from the timelock; returns its checksummed address. */
export async function actAsTimelock(connection: NetworkConnection, core: Core): Promise<Address> {
  const timelock = getAddress(core.timelock.address);
  await connection.networkHelpers.impersonateAccount(timelock);
  await connection.networkHelpers.setBalance(timelock, 10n ** 20n);
  return timelock;
}

/** Approves and deposits `assets` POD of `user` into the vault; returns the shares it minted. */
export async function stake(core: Core, user: Wallet, assets: bigint): Promise<bigint> {
  const { podToken, stakedPod } = core;
  const owner = user.account.address;
  const before = await stakedPod.read.balanceOf([owner]);
  await podToken.write.approve([stakedPod.address, assets], { account: user.account });
  await stakedPod.write.deposit([assets, owner], { account: user.account });
  return (await stakedPod.read.balanceOf([owner])) - before;
}

/** The vault's current assets-per-share rate, as StakedPod computes it: (A + 1) * 1e27 / (S + 1e6). */
export async function vaultRate(core: Core): Promise<bigint> {
  const assets = await core.stakedPod.read.totalAssets();
  const supply = await core.stakedPod.read.totalSupply();
  return ((assets + 1n) * RATE_SCALE) / (supply + VIRTUAL_SHARES);
}

/** Sets the timestamp of the next block, so that the next transaction mines at exactly `ts`. */
export async function nextAt(connection: NetworkConnection, ts: bigint): Promise<void> {
  await connection.networkHelpers.time.setNextBlockTimestamp(ts);
}

/** Mines an empty block at exactly `ts`, so that views read the state as of `ts`. */
export async function mineAt(connection: NetworkConnection, ts: bigint): Promise<void> {
  await connection.networkHelpers.time.increaseTo(ts);
}

/** The timestamp of the block that mined `hash`. */
export async function minedAt(core: Core, hash: Hash): Promise<bigint> {
  const receipt = await core.publicClient.waitForTransactionReceipt({ hash });
  const block = await core.publicClient.getBlock({ blockNumber: receipt.blockNumber });
  return block.timestamp;
}

/** The decoded logs named `eventName` that `contract` emitted in the transaction `hash`. */
export async function eventsIn(core: Core, hash: Hash, contract: { address: Address; abi: Abi }, eventName: string) {
  const receipt = await core.publicClient.waitForTransactionReceipt({ hash });
  const own = receipt.logs.filter((log) => log.address.toLowerCase() === contract.address.toLowerCase());
  return parseEventLogs({ abi: contract.abi, logs: own }).filter((log) => log.eventName === eventName);
}

/** A model id and a full set of its settings, for ProtocolParams' per-model tests. */
export const SAMPLE_MODEL_ID: Hash = stringToHex("gpt2-pod-small", { size: 32 });
export const SAMPLE_MODEL_PARAMS = {
  enabled: true,
  workWeightPpm: 1_000_000,
  minTokensPerSecond: 5,
  maxTokensPerSecond: 500,
  inputPricePerMTok: 2n * 10n ** 18n,
  outputPricePerMTok: 6n * 10n ** 18n,
};

/** Loads the core fixture and lets the test act as the timelock that owns ProtocolParams. */
export async function paramsAsTimelock(connection: NetworkConnection, fixture: () => Promise<Core>) {
  const core = await connection.networkHelpers.loadFixture(fixture);
  const timelock = await actAsTimelock(connection, core);
  return { ...core, timelock, params: core.protocolParams };
}
