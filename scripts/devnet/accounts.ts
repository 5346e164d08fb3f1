/**
 * The devnet's accounts: Hardhat's well-known default keys (funded with ETH by `hardhat node --hostname 127.0.0.1`),
 * one role each. They are public test keys: never use them on a real chain.
 */
import type { Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";

const DEFAULT_KEYS = {
  deployer: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  user: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  operatorBonded: "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  operator: "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  gateway: "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  oracleA: "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  oracleB: "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
  validator: "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
} as const satisfies Record<string, Hex>;

export type Role = keyof typeof DEFAULT_KEYS;
export type DevAccount = { readonly role: Role; readonly privateKey: Hex; readonly account: PrivateKeyAccount };

const devAccount = (role: Role): DevAccount => ({ role, privateKey: DEFAULT_KEYS[role], account: privateKeyToAccount(DEFAULT_KEYS[role]) });

export const DEVNET_ACCOUNTS: { readonly [R in Role]: DevAccount } = {
  deployer: devAccount("deployer"),
  user: devAccount("user"),
  operatorBonded: devAccount("operatorBonded"),
  operator: devAccount("operator"),
  gateway: devAccount("gateway"),
  oracleA: devAccount("oracleA"),
  oracleB: devAccount("oracleB"),
  validator: devAccount("validator"),
};

/** The two operators, in the order of devnet.json's `operators`: the first one bonds. */
export const OPERATORS = [DEVNET_ACCOUNTS.operatorBonded, DEVNET_ACCOUNTS.operator] as const;
/** The oracles sorted by address, as the rewards distributor expects signers. */
export const ORACLES = [DEVNET_ACCOUNTS.oracleA, DEVNET_ACCOUNTS.oracleB].sort((a, b) => (BigInt(a.account.address) < BigInt(b.account.address) ? -1 : 1));
