/**
 * API keys: a spend grant signed by the depositing account (see ../apiKey.ts for the format),
 * made without a transaction, and revoked on-chain by its nonce.
 */
import { getAddress, type Address } from "viem";
import { creditVaultAbi } from "../abi/CreditVault.ts";
import { createApiKey, grantIdOf, parseApiKey } from "../apiKey.ts";
import type { PodClients } from "../client.ts";
import { PodConfigError } from "../errors.ts";
import type { SpendGrant } from "../typedData.ts";
import { eventOf, sendCall, walletOf, type WriteResult } from "./internal.ts";

/** A key lives this long unless told otherwise: 30 days. */
export const DEFAULT_API_KEY_LIFETIME_SECONDS = 30n * 86_400n;

export type IssueApiKeyParameters = {
  /** The gateway allowed to spend (its settlement account). */
  gateway: Address;
  /** The credit asset it spends. */
  asset: Address;
  /** The most it may ever spend under this key, in the asset's smallest unit. */
  cap: bigint;
  /** Unix seconds after which the key is refused (default: 30 days from the latest block). */
  expiry?: bigint | undefined;
  /** The grant's nonce (default: a random 128-bit one); it must never have been used or revoked. */
  nonce?: bigint | undefined;
};
export type IssueApiKeyReturnType = { apiKey: string; grant: SpendGrant; grantId: `0x${string}` };

/**
 * Signs a spend grant with the wallet's account and encodes it as an API key for the gateway's
 * OpenAI-compatible API. Sends nothing. Throws PodConfigError when the nonce was used or revoked.
 */
export async function issueApiKey(pod: PodClients, parameters: IssueApiKeyParameters): Promise<IssueApiKeyReturnType> {
  const { wallet, account } = walletOf(pod);
  const vault = pod.contracts.creditVault;
  const nonce = parameters.nonce ?? randomNonce();
  const [used, revoked] = await Promise.all([
    pod.publicClient.readContract({ address: vault, abi: creditVaultAbi, functionName: "nonceGrant", args: [account.address, nonce] }),
    pod.publicClient.readContract({ address: vault, abi: creditVaultAbi, functionName: "revokedAt", args: [account.address, nonce] }),
  ]);
  if (BigInt(used) !== 0n || revoked !== 0n) throw new PodConfigError(`grant nonce ${nonce} of ${account.address} is already ${revoked !== 0n ? "revoked" : "used"}`);
  const expiry = parameters.expiry ?? (await pod.publicClient.getBlock()).timestamp + DEFAULT_API_KEY_LIFETIME_SECONDS;
  const grant: SpendGrant = {
    account: getAddress(account.address),
    gateway: getAddress(parameters.gateway),
    asset: getAddress(parameters.asset),
    cap: parameters.cap,
    expiry,
    nonce,
  };
  const chainId = wallet.chain?.id ?? (await pod.publicClient.getChainId());
  const signer = account.signTypedData === undefined ? { signTypedData: (typed: Parameters<typeof wallet.signTypedData>[0]) => wallet.signTypedData({ ...typed, account }) } : account;
  const apiKey = await createApiKey(signer as Parameters<typeof createApiKey>[0], grant, { chainId, vault });
  return { apiKey, grant, grantId: grantIdOf(grant) };
}

export type RevokeApiKeyParameters = { apiKey: string } | { nonce: bigint };
export type RevokeApiKeyReturnType = WriteResult & { nonce: bigint; revokedAt: bigint };

/**
 * Revokes a key (or any grant nonce) of the sender: gateways refuse it at once; usage made
 * before still settles within the grace period. Errors: AlreadyRevoked.
 */
export async function revokeApiKey(pod: PodClients, parameters: RevokeApiKeyParameters): Promise<RevokeApiKeyReturnType> {
  const nonce = "apiKey" in parameters ? parseApiKey(parameters.apiKey).grant.nonce : parameters.nonce;
  const vault = pod.contracts.creditVault;
  const sent = await sendCall(pod, { contract: "CreditVault", address: vault, abi: creditVaultAbi, functionName: "revokeGrant", args: [nonce] });
  const event = eventOf(sent.receipt, creditVaultAbi, vault, "GrantRevocationRecorded");
  return { hash: sent.hash, receipt: sent.receipt, nonce: event.args.nonce, revokedAt: event.args.revokedAt };
}

function randomNonce(): bigint {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}
