/**
 * API key authentication: `Authorization: Bearer pod_...`, parsed and its signature verified
 * (sdk/src/apiKey.ts), with the outcome cached by key string since verifying costs ~7 ms. A key
 * that verified once stays valid as a signature; its grant's expiry, revocation and credit are
 * checked per request by the credit guard.
 */
import type { Address } from "viem";
import { ApiKeyError, grantIdOf, parseApiKey, verifyApiKey, type ParsedApiKey } from "../../../sdk/src/apiKey.ts";
import { ApiError } from "./errors.ts";

export type KeyTarget = { chainId: number; vault: Address; gateway: Address };

/** A verified key with its grant id (an EIP-712 struct hash: worth computing once per key, not per request). */
export type AuthenticatedKey = { key: ParsedApiKey; grantId: `0x${string}` };

type Outcome = { ok: true; auth: AuthenticatedKey } | { ok: false; error: ApiKeyError };

export class ApiKeyVerifier {
  readonly #target: KeyTarget;
  readonly #maxEntries: number;
  /** Insertion-ordered: the oldest entry is evicted first. Holds promises so that concurrent first uses verify once. */
  readonly #cache = new Map<string, Promise<Outcome>>();

  constructor(target: KeyTarget, maxEntries = 10_000) {
    this.#target = target;
    this.#maxEntries = maxEntries;
  }

  /** The verified key of an Authorization header value; throws ApiError 401 or ApiKeyError. */
  async authenticate(header: string | undefined): Promise<AuthenticatedKey> {
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) throw new ApiError(401, "authentication_error", "missing_api_key", "an API key is required: Authorization: Bearer pod_...");
    const outcome = await this.#verify(match[1] as string);
    if (!outcome.ok) throw outcome.error;
    return outcome.auth;
  }

  #verify(key: string): Promise<Outcome> {
    let outcome = this.#cache.get(key);
    if (outcome === undefined) {
      outcome = verifyKey(key, this.#target);
      if (this.#cache.size >= this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(key, outcome);
    }
    return outcome;
  }
}

async function verifyKey(key: string, target: KeyTarget): Promise<Outcome> {
  try {
    const parsed = parseApiKey(key);
    await verifyApiKey(parsed, target);
    return { ok: true, auth: { key: parsed, grantId: grantIdOf(parsed.grant) } };
  } catch (error) {
    if (error instanceof ApiKeyError) return { ok: false, error };
    throw error;
  }
}
