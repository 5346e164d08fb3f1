/**
 * EIP-712 types of the settlement contracts: the one home of these encodings for every part
 * (tests, gateway, oracles, SDK). Each contract's domain is its name, version "1", the chain and
 * the contract's address. Changing a type here is a protocol change: change the contract too.
 */
import type { Address, Hex, LocalAccount, TypedDataDomain } from "viem";

export const EIP712_VERSION = "1";

/** Domain names, as each contract passes them to OpenZeppelin's EIP712 constructor. */
export const DOMAIN_NAMES = {
  nodeRegistry: "POD NodeRegistry",
  creditVault: "POD CreditVault",
  rewardsDistributor: "POD RewardsDistributor",
} as const;

export type SettlementContract = keyof typeof DOMAIN_NAMES;

/** The EIP-712 domain of one deployed settlement contract. */
export function settlementDomain(contract: SettlementContract, chainId: number, verifyingContract: Address): TypedDataDomain {
  return { name: DOMAIN_NAMES[contract], version: EIP712_VERSION, chainId, verifyingContract };
}

/**
 * A node key proves it belongs to `account` (NodeRegistry.registerNode). `nonce` is the key's
 * `keyNonce(nodeKey)`, bumped by every registration, so that each proof registers the key once.
 */
export const NODE_KEY_OWNERSHIP_TYPES = {
  NodeKeyOwnership: [
    { name: "account", type: "address" },
    { name: "nodeKey", type: "address" },
    { name: "nonce", type: "uint256" },
  ],
} as const;

/**
 * The node key's proof that it belongs to `account`, for NodeRegistry.registerNode. `nonce` is
 * the registry's `keyNonce(nodeKey)` at registration, so an old proof cannot be replayed.
 */
export function signNodeKeyOwnership(
  nodeKey: LocalAccount,
  proof: { account: Address; nonce: bigint; chainId: number; registry: Address },
): Promise<Hex> {
  return nodeKey.signTypedData({
    domain: settlementDomain("nodeRegistry", proof.chainId, proof.registry),
    types: NODE_KEY_OWNERSHIP_TYPES,
    primaryType: "NodeKeyOwnership",
    message: { account: proof.account, nodeKey: nodeKey.address, nonce: proof.nonce },
  });
}

/** A user lets a gateway spend its credit (CreditVault; an API key carries one). */
export const SPEND_GRANT_TYPES = {
  SpendGrant: [
    { name: "account", type: "address" },
    { name: "gateway", type: "address" },
    { name: "asset", type: "address" },
    { name: "cap", type: "uint256" },
    { name: "expiry", type: "uint64" },
    { name: "nonce", type: "uint256" },
  ],
} as const;

export type SpendGrant = {
  account: Address;
  gateway: Address;
  asset: Address;
  cap: bigint;
  expiry: bigint;
  nonce: bigint;
};

/** The oracles co-sign each epoch's root (RewardsDistributor.proposeRoot). */
export const EPOCH_ROOT_TYPES = {
  EpochRoot: [
    { name: "epoch", type: "uint256" },
    { name: "root", type: "bytes32" },
    { name: "total", type: "uint256" },
    { name: "reportHash", type: "bytes32" },
    { name: "validatorsRoot", type: "bytes32" },
  ],
} as const;

export type EpochRoot = {
  epoch: bigint;
  root: `0x${string}`;
  total: bigint;
  reportHash: `0x${string}`;
  validatorsRoot: `0x${string}`;
};
