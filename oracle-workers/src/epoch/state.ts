/**
 * The oracle's state between epochs, persisted as JSON after each epoch (bigints as decimal
 * strings, maps as [key, value] lists in order): decode(encode(s)) equals s exactly.
 */
import type { Address, Hex } from "viem";
import { InputError, readAddress, readArray, readBytes32, readBoolean, readInteger, readObject, readWei } from "../../../sdk/src/jsonInput.ts";
import type { AccountState } from "../rewards/state.ts";
import { EMPTY_ROOT } from "../../../sdk/src/merkle/tree.ts";
import type { OracleState } from "./types.ts";

const STATE_VERSION = 1;

export function initialOracleState(): OracleState {
  return { epoch: -1, root: EMPTY_ROOT, accounts: new Map(), nodeKeys: new Map() };
}

function encodeAccount(s: AccountState): Record<string, unknown> {
  return {
    E: s.E.toString(), lifetime: s.lifetime.toString(), closedEpochs: s.closedEpochs, recent: s.recent.map(String),
    validator: s.validator, multiplierPpm: s.multiplierPpm, D: s.D.toString(), boostEligible: s.boostEligible,
    cumulativeReward: s.cumulativeReward.toString(), lastBond: s.lastBond.toString(),
    lastRegistered: s.lastRegistered, lastSuspended: s.lastSuspended,
  };
}

export function encodeOracleState(state: OracleState): string {
  return JSON.stringify({
    version: STATE_VERSION,
    epoch: state.epoch,
    root: state.root,
    accounts: [...state.accounts].map(([account, s]) => [account, encodeAccount(s)]),
    nodeKeys: [...state.nodeKeys].map(([account, keys]) => [account, [...keys]]),
  });
}

function readPair(value: unknown, field: string): readonly [Address, unknown] {
  const pair = readArray(value, field);
  if (pair.length !== 2) throw new InputError(field, "must be an [account, value] pair");
  return [readAddress(pair[0], `${field}[0]`), pair[1]];
}

function decodeAccount(value: unknown, field: string): AccountState {
  const o = readObject(value, field);
  const wei = (key: string) => readWei(o[key], `${field}.${key}`);
  const bool = (key: string) => readBoolean(o[key], `${field}.${key}`);
  return {
    E: wei("E"),
    lifetime: wei("lifetime"),
    closedEpochs: readInteger(o.closedEpochs, `${field}.closedEpochs`, 0, Number.MAX_SAFE_INTEGER),
    recent: readArray(o.recent, `${field}.recent`).map((v, i) => readWei(v, `${field}.recent[${i}]`)),
    validator: bool("validator"),
    multiplierPpm: readInteger(o.multiplierPpm, `${field}.multiplierPpm`, 0, Number.MAX_SAFE_INTEGER),
    D: wei("D"),
    boostEligible: bool("boostEligible"),
    cumulativeReward: wei("cumulativeReward"),
    lastBond: wei("lastBond"),
    lastRegistered: bool("lastRegistered"),
    lastSuspended: bool("lastSuspended"),
  };
}

/** Reads what encodeOracleState wrote; an InputError names the first bad field. */
export function decodeOracleState(text: string): OracleState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InputError("state", `not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const o = readObject(raw, "state");
  readInteger(o.version, "state.version", STATE_VERSION, STATE_VERSION);
  const accounts = new Map<Address, AccountState>();
  readArray(o.accounts, "state.accounts").forEach((entry, i) => {
    const [account, value] = readPair(entry, `state.accounts[${i}]`);
    if (accounts.has(account)) throw new InputError(`state.accounts[${i}]`, `duplicate account ${account}`);
    accounts.set(account, decodeAccount(value, `state.accounts[${i}][1]`));
  });
  const nodeKeys = new Map<Address, readonly Address[]>();
  readArray(o.nodeKeys, "state.nodeKeys").forEach((entry, i) => {
    const [account, value] = readPair(entry, `state.nodeKeys[${i}]`);
    nodeKeys.set(account, readArray(value, `state.nodeKeys[${i}][1]`).map((key, k) => readAddress(key, `state.nodeKeys[${i}][1][${k}]`)));
  });
  return {
    epoch: readInteger(o.epoch, "state.epoch", -1, Number.MAX_SAFE_INTEGER),
    root: readBytes32(o.root, "state.root"),
    accounts,
    nodeKeys,
  };
}
