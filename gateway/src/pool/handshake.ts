/**
 * The node's hello, judged (pure apart from signature recovery): protocol version, freshness of
 * the signed NodeAuth, the signer, and which advertised models the gateway would route to.
 */
import { isAddressEqual, type Hex } from "viem";
import { NODE_PROTOCOL_VERSION, recoverNodeAuthSigner, type ModelAdvert } from "../../../sdk/src/nodeProtocol.ts";
import type { HelloFrame } from "./frames.ts";

export type Challenge = { nonce: Hex; gatewayId: string; chainId: number };

export type HelloVerdict = { ok: true } | { ok: false; code: "protocol" | "bad_auth"; message: string };

/** Clock skew tolerated for an auth issued "in the future". */
export const FUTURE_SKEW_MS = 5_000;

export async function verifyHello(hello: HelloFrame, challenge: Challenge, now: number, maxAgeMs: number): Promise<HelloVerdict> {
  if (hello.protocol !== NODE_PROTOCOL_VERSION) return { ok: false, code: "protocol", message: `node speaks protocol ${hello.protocol}, this gateway ${NODE_PROTOCOL_VERSION}` };
  const age = now - hello.auth.issuedAt;
  if (age > maxAgeMs || age < -FUTURE_SKEW_MS) return { ok: false, code: "bad_auth", message: `auth issued ${age} ms ago; must be within ${maxAgeMs} ms` };
  let signer;
  try {
    // The signature covers this connection's nonce: a replayed hello recovers another address.
    signer = await recoverNodeAuthSigner({ gatewayId: challenge.gatewayId, nonce: challenge.nonce, node: hello.node, issuedAt: hello.auth.issuedAt }, hello.auth.signature, challenge.chainId);
  } catch (error) {
    return { ok: false, code: "bad_auth", message: `unreadable auth signature: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!isAddressEqual(signer, hello.node)) return { ok: false, code: "bad_auth", message: `auth signed by ${signer}, not by ${hello.node}` };
  return { ok: true };
}

/**
 * The advertised model ids worth asking the registry about: each listed once, and, when the
 * gateway pins manifests, only those whose manifest hash is the approved one.
 */
export function advertisedModels(adverts: readonly ModelAdvert[], approvedManifests: Readonly<Record<string, string>> | undefined): string[] {
  const ids = new Set<string>();
  for (const m of adverts) {
    const pinned = approvedManifests?.[m.id];
    if (approvedManifests !== undefined && pinned !== m.manifestSha256) continue;
    ids.add(m.id);
  }
  return [...ids];
}
