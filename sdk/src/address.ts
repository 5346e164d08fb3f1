/**
 * EIP-55 addresses without pulling viem into the command's start-up (its import costs ~0.5 s of
 * CPU on the 2-core machine; this needs only keccak). Checked against viem's getAddress in tests.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";

const ADDRESS_PATTERN = /^0x[0-9a-fA-F]{40}$/;

/** Whether `value` is `0x` and 40 hex digits (any letter case; the checksum is not checked). */
export function isAddressShaped(value: unknown): value is string {
  return typeof value === "string" && ADDRESS_PATTERN.test(value);
}

/** The EIP-55 checksum spelling of an address-shaped string. */
export function checksumAddress(address: string): string {
  const lower = address.slice(2).toLowerCase();
  const hash = keccak_256(new TextEncoder().encode(lower));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    // Letter i is upper case when nibble i of keccak256(lowercase hex) is 8 or more.
    const nibble = i % 2 === 0 ? hash[i >> 1]! >> 4 : hash[i >> 1]! & 0x0f;
    out += nibble >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  }
  return out;
}

/** An all-lower or all-upper address has no checksum to check; a mixed-case one must match it. */
export function hasValidChecksum(address: string): boolean {
  const digits = address.slice(2);
  if (digits === digits.toLowerCase() || digits === digits.toUpperCase()) return true;
  return checksumAddress(address) === address;
}
