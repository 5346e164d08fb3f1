import { keccak256, stringToHex, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { signNodeKeyOwnership } from "../../sdk/src/typedData.ts";
import type { Core } from "./fixture.ts";
import type { Wallet } from "./unit.ts";

/** A model id as the registry stores it: its name left-aligned in a bytes32. */
export const modelId = (name: string): Hex => stringToHex(name, { size: 32 });

export const MODEL_A = modelId("gpt2-pod-small");
export const MODEL_B = modelId("llama-pod-1b");
export const MODEL_C = modelId("qwen-pod-7b");
export const METADATA = "ipfs://node-metadata";

/** A node's signing key, derived deterministically from `label` (not a funded account). */
export const nodeKey = (label: string): PrivateKeyAccount => privateKeyToAccount(keccak256(toHex(`pod node key ${label}`)));

/**
 * The EIP-712 proof that `key` belongs to `account`, signed by `key` over the registry's domain
 * and the key's nonce (its current one unless `nonce` is given).
 */
export async function keyProof(core: Core, key: PrivateKeyAccount, account: Address, nonce?: bigint): Promise<Hex> {
  return signNodeKeyOwnership(key, {
    account,
    nonce: nonce ?? (await core.nodeRegistry.read.keyNonce([key.address])),
    chainId: await core.publicClient.getChainId(),
    registry: core.nodeRegistry.address,
  });
}

/** Registers `key` for `owner` with a valid proof, serving `models`. */
export async function registerNode(core: Core, owner: Wallet, key: PrivateKeyAccount, models: Hex[] = [MODEL_A]) {
  const proof = await keyProof(core, key, owner.account.address);
  return core.nodeRegistry.write.registerNode([key.address, models, METADATA, proof], { account: owner.account });
}
