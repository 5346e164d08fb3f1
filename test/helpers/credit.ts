import type { NetworkConnection } from "hardhat/types/network";
import { getAddress, hashStruct, hashTypedData, keccak256, toHex, type Address, type Hash, type Hex, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { settlementDomain, SPEND_GRANT_TYPES, type SpendGrant } from "../../sdk/src/typedData.ts";
import { deployCore, now } from "./fixture.ts";
import { actAsTimelock, type Wallet } from "./unit.ts";

/** One dollar of the 6-decimal stablecoin. */
export const USD = 10n ** 6n;

/** A settlement entry as CreditVault.settle takes it. */
export interface Usage {
  grant: SpendGrant;
  signature: Hex;
  cumulativeSpent: bigint;
}

/**
 * The whole protocol plus a 6-decimal stablecoin. The timelock accepts POD and the stablecoin as
 * credit (the deployment passes no assets here); alice and carol hold 1M dUSD each and have
 * approved the vault for both assets. Dave is the gateway.
 */
export async function deployCredit(connection: NetworkConnection) {
  const core = await deployCore(connection);
  const { viem } = connection;
  const { creditVault, podToken, deployer, alice, carol } = core;
  const usd = await viem.deployContract("DevStablecoin", [deployer.account.address]);
  const timelock = await actAsTimelock(connection, core);
  await creditVault.write.setAssetAccepted([podToken.address, true], { account: timelock });
  await creditVault.write.setAssetAccepted([usd.address, true], { account: timelock });
  for (const user of [alice, carol]) {
    await usd.write.mint([user.account.address, 1_000_000n * USD]);
    await usd.write.approve([creditVault.address, 2n ** 256n - 1n], { account: user.account });
    await podToken.write.approve([creditVault.address, 2n ** 256n - 1n], { account: user.account });
  }
  const chainId = await core.publicClient.getChainId();
  return {
    ...core,
    usd,
    /** The timelock's address, impersonated: send owner-only calls with `{ account: governance }`. */
    governance: timelock,
    chainId,
    a: getAddress(alice.account.address),
    c: getAddress(carol.account.address),
    g: getAddress(core.dave.account.address),
    vault: getAddress(creditVault.address),
    buybackAddress: getAddress(core.buyback.address),
  };
}

export type Credit = Awaited<ReturnType<typeof deployCredit>>;

/** A grant from `account` to the fixture's gateway, valid for 30 days unless overridden. */
export async function makeGrant(
  connection: NetworkConnection,
  env: Credit,
  account: Wallet,
  fields: Partial<SpendGrant> = {},
): Promise<SpendGrant> {
  return {
    account: getAddress(account.account.address),
    gateway: env.g,
    asset: getAddress(env.usd.address),
    cap: 100n * USD,
    expiry: (await now(connection)) + 30n * 86_400n,
    nonce: 1n,
    ...fields,
  };
}

/** The grant id: the EIP-712 struct hash of `grant`, as viem computes it. */
export function grantIdOf(grant: SpendGrant): Hash {
  return hashStruct({ data: grant, primaryType: "SpendGrant", types: SPEND_GRANT_TYPES });
}

/** The EIP-712 digest of `grant` in this vault's domain, as viem computes it. */
export function grantDigest(env: Credit, grant: SpendGrant): Hex {
  return hashTypedData({
    domain: settlementDomain("creditVault", env.chainId, env.vault),
    types: SPEND_GRANT_TYPES,
    primaryType: "SpendGrant",
    message: grant,
  });
}

/** `signer`'s EIP-712 signature of `grant` (normally the grant's own account). */
export function signGrant(env: Credit, signer: Wallet, grant: SpendGrant): Promise<Hex> {
  return signer.signTypedData({
    account: signer.account,
    domain: settlementDomain("creditVault", env.chainId, env.vault),
    types: SPEND_GRANT_TYPES,
    primaryType: "SpendGrant",
    message: grant,
  });
}

/** A usage entry for `grant`, signed by its account (or by `signer` when given). */
export async function signedUsage(env: Credit, account: Wallet, grant: SpendGrant, cumulativeSpent: bigint, signer = account): Promise<Usage> {
  return { grant, signature: await signGrant(env, signer, grant), cumulativeSpent };
}

/** Deposits `amount` of the stablecoin as `user`'s credit. */
export async function depositUsd(env: Credit, user: Wallet, amount: bigint): Promise<void> {
  await env.creditVault.write.deposit([env.usd.address, amount], { account: user.account });
}

/** Settles `usages` for `epoch` as the fixture's gateway (or `caller`). */
export function settleAs(env: Credit, usages: Usage[], epoch = 1n, caller: Address = env.g) {
  return env.creditVault.write.settle([epoch, usages], { account: caller });
}

/** `count` deterministic local accounts (no node keys), for large settlement batches. */
export function grantees(count: number): LocalAccount[] {
  return Array.from({ length: count }, (_, i) => privateKeyToAccount(keccak256(toHex(`pod-credit-grantee-${i}`))));
}

/** Where grants point: the chain and vault of their domain, the gateway and the asset. */
export interface GrantTarget {
  chainId: number;
  vault: Address;
  gateway: Address;
  asset: Address;
}

/** The fixture's gateway and stablecoin as a grant target. */
export const grantTargetOf = (env: Credit): GrantTarget => ({ chainId: env.chainId, vault: env.vault, gateway: env.g, asset: getAddress(env.usd.address) });

/** Grants of `accounts` to `target`'s gateway in its asset, each signed by its account. */
export async function signedGrants(target: GrantTarget, accounts: LocalAccount[], cap: bigint, expiry: bigint) {
  const domain = settlementDomain("creditVault", target.chainId, target.vault);
  return Promise.all(
    accounts.map(async (account) => {
      const grant: SpendGrant = { account: account.address, gateway: target.gateway, asset: target.asset, cap, expiry, nonce: 1n };
      const signature = await account.signTypedData({ domain, types: SPEND_GRANT_TYPES, primaryType: "SpendGrant", message: grant });
      return { grant, signature };
    }),
  );
}
