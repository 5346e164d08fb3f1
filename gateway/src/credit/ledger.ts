/**
 * The gateway's credit ledger: what each grant may still spend, from the on-chain state and the
 * usage this gateway served but has not settled yet. No I/O: every decision takes the chain's
 * state as an argument (read by CreditVaultReader), so it is a function of what it is given.
 *
 * Per grant the ledger keeps `served`: everything charged under the grant so far, settled or not
 * (the `cumulativeSpent` that settlement sends), and `reserved`: the maximum cost of requests in
 * flight. With the vault's `spent` (spentOf), a grant's unsettled usage is `served - spent`, so a
 * settlement needs no bookkeeping here: once the chain state shows it, it is counted once.
 *
 *   capLeft     = cap - max(served, spent) - reserved
 *   balanceLeft = credit - pendingWithdrawal - sum over the account's grants in the asset of
 *                 (unsettled + reserved)
 *   available   = min(capLeft, balanceLeft)
 *
 * `credit` (creditOf) already has settled usage taken out, so the balance and every grant's
 * `spent` must come from one block (AccountChainState) or a settlement could be missed or
 * counted twice.
 */
import type { Address, Hex } from "viem";
import type { SpendGrant } from "../../../sdk/src/typedData.ts";
import { InsufficientCredit, KeyRejected, ReservationClosed, type CreditLimit } from "./errors.ts";

const ZERO_GRANT: Hex = `0x${"0".repeat(64)}`;

/** A grant's state in the CreditVault. */
export type GrantChainState = {
  /** spentOf(grantId): cumulative usage settled. */
  spent: bigint;
  /** revokedAt(account, nonce): 0 unless revoked. */
  revokedAt: bigint;
  /** nonceGrant(account, nonce): the grant the nonce is bound to, zero if none yet. */
  nonceGrant: Hex;
};

/** One account's state in one asset, read at one block. */
export type AccountChainState = {
  /** creditOf(account, asset): settled usage already taken out. */
  credit: bigint;
  /** withdrawalOf(account, asset).amount: counted as gone from the moment it is requested. */
  pendingWithdrawal: bigint;
  /** Keyed by grant id (lowercase hex); must hold every grant of `ledger.grantsOf(account, asset)`. */
  grants: ReadonlyMap<Hex, GrantChainState>;
};

/** A grant as the chain reads need it: its id and the nonce its revocation is recorded under. */
export type GrantRef = { id: Hex; nonce: bigint };

/** What one request may cost at most; settle it once with commit or release. */
export type Reservation = { readonly id: number; readonly grantId: Hex; readonly amount: bigint };

export type Availability = { cap: bigint; balance: bigint; available: bigint; limit: CreditLimit };

type GrantBook = { grant: SpendGrant; id: Hex; served: bigint; reserved: bigint };

export class CreditLedger {
  readonly #books = new Map<Hex, GrantBook>();
  readonly #byAccountAsset = new Map<string, Set<Hex>>();
  /** (account, nonce) -> the grant first served here under it, before the chain binds it. */
  readonly #nonceOwners = new Map<string, Hex>();
  readonly #open = new Map<number, Reservation>();
  #nextId = 1;

  /** Grants whose state an AccountChainState for (account, asset) must carry. */
  grantsOf(account: Address, asset: Address): GrantRef[] {
    return [...(this.#byAccountAsset.get(pairKey(account, asset)) ?? [])].map((id) => ({ id, nonce: (this.#books.get(id) as GrantBook).grant.nonce }));
  }

  /** Everything charged under the grant so far (settlement's cumulativeSpent); 0 if unknown. */
  servedOf(grantId: Hex): bigint {
    return this.#books.get(norm(grantId))?.served ?? 0n;
  }

  /**
   * Restores what was served under a grant (from stored receipts after a restart), so that
   * unsettled usage keeps counting against cap and balance.
   */
  restoreServed(grant: SpendGrant, grantId: Hex, served: bigint): void {
    if (served < 0n) throw new RangeError("served must not be negative");
    const book = this.#book(grant, grantId);
    if (served > book.served) book.served = served;
    if (served > 0n) this.#nonceOwners.set(nonceKey(grant), book.id);
  }

  /** What the cap and the balance leave for the grant now (never negative). */
  availability(grant: SpendGrant, grantId: Hex, chain: AccountChainState): Availability {
    const id = norm(grantId);
    const own = chainGrant(chain, id);
    const book = this.#books.get(id);
    const served = max(book?.served ?? 0n, own.spent);
    const cap = grant.cap - served - (book?.reserved ?? 0n);
    let committed = chain.pendingWithdrawal;
    for (const other of this.#byAccountAsset.get(pairKey(grant.account, grant.asset)) ?? []) {
      const b = this.#books.get(other) as GrantBook;
      committed += max(b.served - chainGrant(chain, other).spent, 0n) + b.reserved;
    }
    const balance = chain.credit - committed;
    const limit: CreditLimit = cap <= balance ? "cap" : "balance";
    const available = max(limit === "cap" ? cap : balance, 0n);
    return { cap: max(cap, 0n), balance: max(balance, 0n), available, limit };
  }

  /**
   * Reserves `maxCost` under the grant, or throws KeyRejected (expired at `now` in unix seconds,
   * revoked, nonce bound to another grant) or InsufficientCredit (naming the binding limit).
   */
  reserve(grant: SpendGrant, grantId: Hex, maxCost: bigint, chain: AccountChainState, now: bigint): Reservation {
    if (maxCost < 0n) throw new RangeError("maxCost must not be negative");
    const id = norm(grantId);
    const own = chainGrant(chain, id);
    if (now > grant.expiry) throw new KeyRejected("expired", id, `the key expired at ${grant.expiry} (now ${now})`);
    if (own.revokedAt !== 0n) throw new KeyRejected("revoked", id, `the account revoked this key's nonce ${grant.nonce} at ${own.revokedAt}`);
    const bound = own.nonceGrant === ZERO_GRANT ? this.#nonceOwners.get(nonceKey(grant)) : norm(own.nonceGrant);
    if (bound !== undefined && bound !== id) throw new KeyRejected("nonce_reused", id, `nonce ${grant.nonce} already belongs to grant ${bound}`);

    const { cap, balance, available, limit } = this.availability(grant, id, chain);
    if (maxCost > available) throw new InsufficientCredit(limit, id, maxCost, limit === "cap" ? cap : balance);

    const book = this.#book(grant, id);
    // Usage settled by an earlier run of the gateway counts as served.
    if (own.spent > book.served) book.served = own.spent;
    book.reserved += maxCost;
    this.#nonceOwners.set(nonceKey(grant), id);
    const reservation: Reservation = Object.freeze({ id: this.#nextId++, grantId: id, amount: maxCost });
    this.#open.set(reservation.id, reservation);
    return reservation;
  }

  /** Charges `actualCost` (at most the reserved amount) and frees the rest. */
  commit(reservation: Reservation, actualCost: bigint): void {
    if (actualCost < 0n || actualCost > reservation.amount) {
      throw new RangeError(`actual cost ${actualCost} must lie between 0 and the reserved ${reservation.amount}`);
    }
    const book = this.#close(reservation);
    book.served += actualCost;
    this.#forgetIfUnused(book);
  }

  /** Frees a reservation without charging (the request failed before anything was served). */
  release(reservation: Reservation): void {
    this.#forgetIfUnused(this.#close(reservation));
  }

  #close(reservation: Reservation): GrantBook {
    const open = this.#open.get(reservation.id);
    if (open !== reservation) throw new ReservationClosed(reservation.id);
    this.#open.delete(reservation.id);
    const book = this.#books.get(reservation.grantId) as GrantBook;
    book.reserved -= reservation.amount;
    return book;
  }

  #book(grant: SpendGrant, grantId: Hex): GrantBook {
    const id = norm(grantId);
    let book = this.#books.get(id);
    if (book === undefined) {
      book = { grant, id, served: 0n, reserved: 0n };
      this.#books.set(id, book);
      const key = pairKey(grant.account, grant.asset);
      const set = this.#byAccountAsset.get(key) ?? new Set<Hex>();
      set.add(id);
      this.#byAccountAsset.set(key, set);
    }
    return book;
  }

  /** A grant that never spent anything holds no nonce and needs no chain reads. */
  #forgetIfUnused(book: GrantBook): void {
    if (book.served !== 0n || book.reserved !== 0n) return;
    this.#books.delete(book.id);
    const key = pairKey(book.grant.account, book.grant.asset);
    const set = this.#byAccountAsset.get(key);
    set?.delete(book.id);
    if (set?.size === 0) this.#byAccountAsset.delete(key);
    if (this.#nonceOwners.get(nonceKey(book.grant)) === book.id) this.#nonceOwners.delete(nonceKey(book.grant));
  }
}

const norm = (id: Hex): Hex => id.toLowerCase() as Hex;
const max = (a: bigint, b: bigint) => (a > b ? a : b);
const pairKey = (account: Address, asset: Address) => `${account.toLowerCase()}:${asset.toLowerCase()}`;
const nonceKey = (grant: SpendGrant) => `${grant.account.toLowerCase()}:${grant.nonce}`;

function chainGrant(chain: AccountChainState, id: Hex): GrantChainState {
  const state = chain.grants.get(id);
  if (state === undefined) throw new Error(`the chain state lacks grant ${id}: read every grant of ledger.grantsOf(account, asset)`);
  return state;
}
