/**
 * Worker nodes on the NodeRegistry: register a node key (the key signs that it belongs to the
 * sender, over its current nonce), update its models and metadata, deregister it.
 */
import { isHex, type Address, type Hex, type LocalAccount } from "viem";
import { nodeRegistryAbi } from "../abi/NodeRegistry.ts";
import type { PodClients } from "../client.ts";
import { registryModelId } from "../modelId.ts";
import { signNodeKeyOwnership } from "../typedData.ts";
import { eventOf, senderOf, sendCall, type WriteResult } from "./internal.ts";

/** A model by its API name ("pod-gpt2-tiny") or its on-chain bytes32 id. */
export type ModelRef = string;

/** The bytes32 ids of `models`; names longer than 32 bytes throw a RangeError. */
export function modelIdsOf(models: readonly ModelRef[]): Hex[] {
  return models.map((model) => {
    if (isHex(model) && model.length === 66) return model;
    const id = registryModelId(model);
    if (id === undefined) throw new RangeError(`model name ${JSON.stringify(model)} is longer than 32 bytes`);
    return id;
  });
}

export type RegisterNodeParameters = {
  /** The node's key, which signs its ownership proof; or its address with a proof made elsewhere. */
  nodeKey: LocalAccount | { address: Address; keySignature: Hex };
  models: readonly ModelRef[];
  metadataURI: string;
};
export type RegisterNodeReturnType = WriteResult & { nodeKey: Address; account: Address; modelIds: readonly Hex[] };

/**
 * Registers (or re-registers) a node key for the sender. Errors: InvalidKeySignature, NoModels,
 * TooManyModels, DuplicateModel, NodeAlreadyActive, NodeOwnedByOther, NodeIsBanned, AccountIsBanned.
 */
export async function registerNode(pod: PodClients, parameters: RegisterNodeParameters): Promise<RegisterNodeReturnType> {
  const registry = pod.contracts.nodeRegistry;
  const account = senderOf(pod);
  const { nodeKey } = parameters;
  let keySignature: Hex;
  if ("keySignature" in nodeKey) keySignature = nodeKey.keySignature;
  else {
    const nonce = await pod.publicClient.readContract({ address: registry, abi: nodeRegistryAbi, functionName: "keyNonce", args: [nodeKey.address] });
    const chainId = await pod.publicClient.getChainId();
    keySignature = await signNodeKeyOwnership(nodeKey, { account, nonce, chainId, registry });
  }
  const sent = await sendCall(pod, {
    contract: "NodeRegistry",
    address: registry,
    abi: nodeRegistryAbi,
    functionName: "registerNode",
    args: [nodeKey.address, modelIdsOf(parameters.models), parameters.metadataURI, keySignature],
  });
  const event = eventOf(sent.receipt, nodeRegistryAbi, registry, "NodeRegistered");
  return { hash: sent.hash, receipt: sent.receipt, nodeKey: event.args.nodeKey, account: event.args.account, modelIds: event.args.modelIds };
}

export type UpdateNodeParameters = { nodeKey: Address; models: readonly ModelRef[]; metadataURI: string };

/** Replaces an active node's models and metadata. Errors: NotNodeOwner, NodeNotActive, NoModels... */
export async function updateNode(pod: PodClients, parameters: UpdateNodeParameters): Promise<WriteResult> {
  const { hash, receipt } = await sendCall(pod, {
    contract: "NodeRegistry",
    address: pod.contracts.nodeRegistry,
    abi: nodeRegistryAbi,
    functionName: "updateNode",
    args: [parameters.nodeKey, modelIdsOf(parameters.models), parameters.metadataURI],
  });
  return { hash, receipt };
}

/** Takes one of the sender's nodes out of the pool (it may rejoin). Errors: NotNodeOwner, NodeNotActive, UnknownNode. */
export async function deregisterNode(pod: PodClients, parameters: { nodeKey: Address }): Promise<WriteResult & { nodeKey: Address; account: Address }> {
  const registry = pod.contracts.nodeRegistry;
  const sent = await sendCall(pod, { contract: "NodeRegistry", address: registry, abi: nodeRegistryAbi, functionName: "deregisterNode", args: [parameters.nodeKey] });
  const event = eventOf(sent.receipt, nodeRegistryAbi, registry, "NodeDeregistered");
  return { hash: sent.hash, receipt: sent.receipt, nodeKey: event.args.nodeKey, account: event.args.account };
}
