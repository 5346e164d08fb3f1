/**
 * The gateway's credit check for one request, from the chain's state and the ledger:
 *
 *   const quote = await guard.quote(model, grant);         // undefined: model not enabled
 *   const r = await guard.reserve(grant, quote.cost({ promptTokens, completionTokens: maxTokens }));
 *   try { ...serve...; guard.commit(r, quote.cost(actualUsage)); } catch (e) { guard.release(r); throw e; }
 *
 * reserve throws KeyRejected (401) or InsufficientCredit (402). The signature is not checked
 * here: verify the API key (sdk/src/apiKey.ts) before asking.
 */
import type { Address, Hex } from "viem";
import { grantIdOf } from "../../../sdk/src/apiKey.ts";
import type { SpendGrant } from "../../../sdk/src/typedData.ts";
import type { CreditVaultReader, ModelPriceReader } from "./chain.ts";
import { CreditLedger, type AccountChainState, type Availability, type Reservation } from "./ledger.ts";
import { KeyRejected } from "./errors.ts";
import { costInAsset, isPricedAsset, type ModelPrice, type PricingConfig, type TokenUsage } from "./pricing.ts";

export type CreditGuardConfig = {
  vault: CreditVaultReader;
  prices: ModelPriceReader;
  /** Validated with parsePricingConfig. */
  pricing: PricingConfig;
  /** Unix seconds, compared with grant expiries (the chain's clock in tests). */
  clock?: () => bigint;
  ledger?: CreditLedger;
};

/** A model's price for one grant's asset; cost() rounds up. */
export type Quote = { model: string; price: ModelPrice; cost(usage: TokenUsage): bigint };

/** Reads racing a new grant of the same account are retried this many times. */
const MAX_STATE_READS = 3;

export class CreditGuard {
  readonly ledger: CreditLedger;
  readonly #config: CreditGuardConfig;
  readonly #clock: () => bigint;
  /** grantIdOf costs ~0.1 ms (viem's EIP-712 hashing); a key's grant object is reused per request. */
  readonly #ids = new WeakMap<SpendGrant, Hex>();

  constructor(config: CreditGuardConfig) {
    this.#config = config;
    this.ledger = config.ledger ?? new CreditLedger();
    this.#clock = config.clock ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  }

  /**
   * The model's price in the grant's asset, or undefined when the model is not enabled.
   * Throws KeyRejected("unpriced_asset") when the gateway has no POD price in that asset.
   */
  async quote(model: string, grant: SpendGrant): Promise<Quote | undefined> {
    const grantId = this.#idOf(grant);
    const { pricing } = this.#config;
    if (!isPricedAsset(grant.asset, pricing)) throw new KeyRejected("unpriced_asset", grantId, `this gateway has no POD price in asset ${grant.asset}`);
    const price = await this.#config.prices.price(model);
    if (price === undefined) return undefined;
    return { model, price, cost: (usage) => costInAsset(price, usage, grant.asset, pricing, grantId) };
  }

  /** Reserves `maxCost` of the grant's asset for one request (KeyRejected, InsufficientCredit). */
  async reserve(grant: SpendGrant, maxCost: bigint): Promise<Reservation> {
    const grantId = this.#idOf(grant);
    const state = await this.#state(grant);
    return this.ledger.reserve(grant, grantId, maxCost, state, this.#clock());
  }

  /** Charges the actual cost (at most the reservation) and frees the rest. */
  commit(reservation: Reservation, actualCost: bigint): void {
    this.ledger.commit(reservation, actualCost);
  }

  /** Frees a reservation without charging. */
  release(reservation: Reservation): void {
    this.ledger.release(reservation);
  }

  /** What the grant's cap and the account's balance leave now. */
  async availability(grant: SpendGrant): Promise<Availability> {
    return this.ledger.availability(grant, this.#idOf(grant), await this.#state(grant));
  }

  /** Call once a settlement (or any transaction touching the account's credit) is mined. */
  refresh(account: Address, asset: Address): void {
    this.#config.vault.invalidate(account, asset);
  }

  #idOf(grant: SpendGrant): Hex {
    let id = this.#ids.get(grant);
    if (id === undefined) {
      id = grantIdOf(grant);
      this.#ids.set(grant, id);
    }
    return id;
  }

  /**
   * The account's state covering the grant and every grant the ledger holds for the account and
   * asset. A concurrent request may book a new grant while this one reads: read again then.
   */
  async #state(grant: SpendGrant): Promise<AccountChainState> {
    const own = { id: this.#idOf(grant), nonce: grant.nonce };
    for (let attempt = 1; ; attempt++) {
      const refs = this.ledger.grantsOf(grant.account, grant.asset);
      if (!refs.some((r) => r.id === own.id)) refs.push(own);
      const state = await this.#config.vault.accountState(grant.account, grant.asset, refs);
      const covered = this.ledger.grantsOf(grant.account, grant.asset).every((r) => state.grants.has(r.id));
      if (covered && state.grants.has(own.id)) return state;
      if (attempt >= MAX_STATE_READS) throw new Error(`credit state of ${grant.account} kept changing while read`);
    }
  }
}
