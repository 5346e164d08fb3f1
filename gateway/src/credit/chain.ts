/**
 * Thin on-chain reads behind the credit decisions, cached for a short TTL so that a busy key
 * costs a few RPC calls per TTL, not per request. A failed read is never cached.
 *
 * CreditVaultReader reads one account's state in one asset with all the grants asked for at one
 * block number, so the balance (creditOf, settled usage taken out) and each grant's spentOf
 * always agree: see ledger.ts for why that matters.
 */
import { type Address, type Hex, type PublicClient } from "viem";
import { creditVaultAbi, protocolParamsAbi } from "../../../sdk/src/abi/contracts.ts";
import { registryModelId } from "../pool/authorizer.ts";
import type { AccountChainState, GrantChainState, GrantRef } from "./ledger.ts";
import type { ModelPrice } from "./pricing.ts";

type Client = Pick<PublicClient, "readContract" | "getBlockNumber">;

export type ChainReaderConfig = {
  client: Client;
  /** How long an answer is reused (ms): the window in which a withdrawal request, a revocation
   * or another gateway's settlement may go unseen. */
  ttlMs: number;
  now?: () => number;
};

type Entry<T> = { at: number; value: Promise<T> };

export class CreditVaultReader {
  readonly #config: ChainReaderConfig & { creditVault: Address };
  readonly #now: () => number;
  readonly #cache = new Map<string, Entry<AccountChainState> & { ids: ReadonlySet<Hex> }>();

  constructor(config: ChainReaderConfig & { creditVault: Address }) {
    this.#config = config;
    this.#now = config.now ?? Date.now;
  }

  /** The account's state in `asset` with every grant of `grants`, all at one block. */
  accountState(account: Address, asset: Address, grants: readonly GrantRef[]): Promise<AccountChainState> {
    const key = `${account.toLowerCase()}:${asset.toLowerCase()}`;
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit !== undefined && now - hit.at < this.#config.ttlMs && grants.every((g) => hit.ids.has(g.id.toLowerCase() as Hex))) return hit.value;
    for (const [k, v] of this.#cache) if (now - v.at >= this.#config.ttlMs) this.#cache.delete(k);
    const value = this.#read(account, asset, grants);
    const entry = { at: now, value, ids: new Set(grants.map((g) => g.id.toLowerCase() as Hex)) };
    this.#cache.set(key, entry);
    value.catch(() => {
      if (this.#cache.get(key) === entry) this.#cache.delete(key);
    });
    return value;
  }

  /** Forgets the cached state (after a settlement, a deposit seen by an event, a refused key). */
  invalidate(account: Address, asset: Address): void {
    this.#cache.delete(`${account.toLowerCase()}:${asset.toLowerCase()}`);
  }

  async #read(account: Address, asset: Address, grants: readonly GrantRef[]): Promise<AccountChainState> {
    const { client, creditVault: address } = this.#config;
    // viem reuses a block number for its polling interval unless told not to.
    const blockNumber = await client.getBlockNumber({ cacheTime: 0 });
    const read = { address, abi: creditVaultAbi, blockNumber } as const;
    const [credit, withdrawal, states] = await Promise.all([
      client.readContract({ ...read, functionName: "creditOf", args: [account, asset] }),
      client.readContract({ ...read, functionName: "withdrawalOf", args: [account, asset] }),
      Promise.all(
        grants.map(async (g): Promise<[Hex, GrantChainState]> => {
          const [spent, revokedAt, nonceGrant] = await Promise.all([
            client.readContract({ ...read, functionName: "spentOf", args: [g.id] }),
            client.readContract({ ...read, functionName: "revokedAt", args: [account, g.nonce] }),
            client.readContract({ ...read, functionName: "nonceGrant", args: [account, g.nonce] }),
          ]);
          return [g.id.toLowerCase() as Hex, { spent, revokedAt: BigInt(revokedAt), nonceGrant }];
        }),
      ),
    ]);
    return { credit, pendingWithdrawal: withdrawal.amount, grants: new Map(states) };
  }
}

/** Governed model prices (ProtocolParams.modelParams), cached per model. */
export class ModelPriceReader {
  readonly #config: ChainReaderConfig & { protocolParams: Address };
  readonly #now: () => number;
  readonly #cache = new Map<string, Entry<ModelPrice | undefined>>();

  constructor(config: ChainReaderConfig & { protocolParams: Address }) {
    this.#config = config;
    this.#now = config.now ?? Date.now;
  }

  /** The model's prices; undefined when governance has not enabled it (or its id is too long). */
  price(model: string): Promise<ModelPrice | undefined> {
    const now = this.#now();
    const hit = this.#cache.get(model);
    if (hit !== undefined && now - hit.at < this.#config.ttlMs) return hit.value;
    const value = this.#read(model);
    const entry = { at: now, value };
    this.#cache.set(model, entry);
    value.catch(() => {
      if (this.#cache.get(model) === entry) this.#cache.delete(model);
    });
    return value;
  }

  async #read(model: string): Promise<ModelPrice | undefined> {
    const id = registryModelId(model);
    if (id === undefined) return undefined;
    const { client, protocolParams } = this.#config;
    const params = await client.readContract({ address: protocolParams, abi: protocolParamsAbi, functionName: "modelParams", args: [id] });
    if (!params.enabled) return undefined;
    return { inputPricePerMTok: params.inputPricePerMTok, outputPricePerMTok: params.outputPricePerMTok };
  }
}
