/**
 * Reading untrusted JSON field by field: every failure is an InputError naming the field, so a
 * command can print one line that says exactly what to fix.
 */
import type { Address, Hex } from "viem";
import { checksumAddress, hasValidChecksum, isAddressShaped } from "./address.ts";

/** Bad input (a scenario, a parameter set): the message names the offending field. */
export class InputError extends Error {
  override readonly name: string = "InputError";
  /** Dotted path of the field, e.g. `params.lambdaDownPpm` or `epochs[2].accounts[0].bond`. */
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
  }
}

export const MAX_UINT256 = (1n << 256n) - 1n;
const DECIMAL_PATTERN = /^(0|[1-9][0-9]*)$/;

/** A plain JSON object (not null, not an array). */
export function readObject(value: unknown, field: string): Readonly<Record<string, unknown>> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InputError(field, `must be an object, got ${describe(value)}`);
  }
  return value as Readonly<Record<string, unknown>>;
}

export function readArray(value: unknown, field: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new InputError(field, `must be an array, got ${describe(value)}`);
  return value;
}

export function readBoolean(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") throw new InputError(field, `must be true or false, got ${describe(value)}`);
  return value;
}

/** An integer JSON number within [min, max]. */
export function readInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new InputError(field, `must be an integer JSON number, got ${describe(value)}`);
  }
  if (value < min || value > max) throw new InputError(field, `must be in [${min}, ${max}], got ${value}`);
  return value;
}

/** A wei amount: a decimal string of a non-negative integer within [min, max] (uint256 at most). */
export function readWei(value: unknown, field: string, min = 0n, max = MAX_UINT256): bigint {
  if ((typeof value === "string" && /^-[0-9]+$/.test(value)) || (typeof value === "number" && value < 0)) {
    throw new InputError(field, `must not be negative, got ${describe(value)}`);
  }
  if (typeof value !== "string" || !DECIMAL_PATTERN.test(value)) {
    throw new InputError(field, `must be a decimal string of wei (e.g. "1000000000000000000"), got ${describe(value)}`);
  }
  const amount = BigInt(value);
  if (amount < min || amount > max) throw new InputError(field, `must be in [${min}, ${max}], got ${value}`);
  return amount;
}

const BYTES32 = /^0x[0-9a-f]{64}$/;

/** A checksummed address (reports and state only ever hold that spelling). */
export function readAddress(value: unknown, field: string): Address {
  if (!isAddressShaped(value) || !hasValidChecksum(value) || checksumAddress(value) !== value) {
    throw new InputError(field, `must be a checksummed address, got ${JSON.stringify(value)}`);
  }
  return value as Address;
}

export function readBytes32(value: unknown, field: string): Hex {
  if (typeof value !== "string" || !BYTES32.test(value)) throw new InputError(field, "must be 0x and 64 lower-case hex digits");
  return value as Hex;
}

/** Rejects keys of `object` that are not in `known`, naming the first one. */
export function rejectUnknownKeys(
  object: Readonly<Record<string, unknown>>,
  known: readonly string[],
  field: string,
  what: string,
): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw new InputError(`${field}.${key}`, `unknown ${what}`);
  }
}

/** A short, safe rendering of a bad value for an error message. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === "object") return "an object";
  return String(value);
}
