/**
 * Which requests validators get to see. The decision is a keyed hash of the request id, so it
 * is deterministic (every gateway replica agrees, a retry keeps its fate) yet unpredictable to
 * a node without the salt: a node cannot serve sampled requests honestly and cheat the rest.
 * It ignores the request's content on purpose, so no kind of prompt escapes sampling.
 */
import { createHmac } from "node:crypto";

export const PPM = 1_000_000;
const MIN_SALT_BYTES = 16;
const TWO_POW_48 = 2n ** 48n;

/** True for about ratePpm of every million request ids (0: never, 1,000,000: always). */
export function shouldSample(salt: string | Uint8Array, requestId: string, ratePpm: number): boolean {
  if (!Number.isInteger(ratePpm) || ratePpm < 0 || ratePpm > PPM) throw new RangeError(`ratePpm must be an integer from 0 to ${PPM}, got ${ratePpm}`);
  const saltBytes = typeof salt === "string" ? Buffer.byteLength(salt) : salt.byteLength;
  if (saltBytes < MIN_SALT_BYTES) throw new RangeError(`the sampling salt must be a secret of at least ${MIN_SALT_BYTES} bytes`);
  if (ratePpm === 0) return false;
  if (ratePpm === PPM) return true;
  // 48 uniform bits u; sampled when u / 2^48 < ratePpm / 10^6, compared exactly in integers.
  const u = BigInt(createHmac("sha256", salt).update(requestId).digest().readUIntBE(0, 6));
  return u * BigInt(PPM) < BigInt(ratePpm) * TWO_POW_48;
}
