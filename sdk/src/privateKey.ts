/**
 * A private key given to a service: the key itself (0x + 64 hex digits) or the path of a file
 * holding it (safer: it stays out of `ps` and shell history). Errors never echo the value.
 */
import { isHex, type Hex } from "viem";

export class PrivateKeyError extends Error {
  override name = "PrivateKeyError";
}

const isPrivateKey = (value: string): value is Hex => isHex(value) && value.length === 66;

export function readPrivateKey(raw: string, readText: (path: string) => string): Hex {
  if (isPrivateKey(raw)) return raw;
  if (/^(0x)?[0-9a-fA-F]{64}$/.test(raw)) throw new PrivateKeyError("a private key must start with 0x");
  let content: string;
  try {
    content = readText(raw).trim();
  } catch {
    // Never echo the value: it may be a mistyped key.
    throw new PrivateKeyError("neither a private key (0x + 64 hex digits) nor a readable file");
  }
  if (!isPrivateKey(content)) throw new PrivateKeyError(`the file ${raw} does not hold a private key (0x + 64 hex digits)`);
  return content;
}
