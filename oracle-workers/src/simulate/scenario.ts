/**
 * The simulation's input (rewards.md, "The simulation command"), validated by hand field by
 * field. Every failure is an InputError naming the field, e.g. `epochs[1].accounts[0].bond`.
 *
 *   { "params": { ...any subset of the parameters... },
 *     "epochs": [ { "accounts": [ { "account": "0x..", "base": "123", "bond": "456",
 *                                    "registered": true, "suspended": false } ] } ] }
 */
import { checksumAddress, hasValidChecksum, isAddressShaped } from "../../../sdk/src/address.ts";
import { InputError, readArray, readBoolean, readObject, readWei, rejectUnknownKeys } from "../../../sdk/src/jsonInput.ts";
import type { RewardParams } from "../../../sdk/src/rewardParams.ts";
import { DEFAULT_REWARD_PARAMS, parseRewardParams } from "../../../sdk/src/rewardParams.ts";
import type { AccountEpochInput } from "../rewards/state.ts";

export type Scenario = {
  readonly params: RewardParams;
  /** Per epoch, the accounts with inputs at its close (addresses in EIP-55 checksum form). */
  readonly epochs: readonly (readonly AccountEpochInput[])[];
};

const SCENARIO_KEYS = ["params", "epochs"] as const;
const EPOCH_KEYS = ["accounts"] as const;
const ACCOUNT_KEYS = ["account", "base", "bond", "registered", "suspended"] as const;

/** Thrown for a scenario that breaks the format; `field` names the offending field. */
export class ScenarioError extends InputError {
  override readonly name: string = "ScenarioError";
}

function required(object: Readonly<Record<string, unknown>>, key: string, field: string): unknown {
  const value = object[key];
  if (value === undefined) throw new ScenarioError(`${field}.${key}`, "missing");
  return value;
}

/** An address in any letter case; mixed case must carry a valid EIP-55 checksum. */
export function readAddress(value: unknown, field: string): string {
  if (!isAddressShaped(value)) {
    throw new ScenarioError(field, `malformed address (want 0x and 40 hex digits), got ${JSON.stringify(value)}`);
  }
  if (!hasValidChecksum(value)) throw new ScenarioError(field, `bad EIP-55 checksum in ${value}`);
  return checksumAddress(value);
}

function readAccountInput(value: unknown, field: string): AccountEpochInput {
  const object = readObject(value, field);
  rejectUnknownKeys(object, ACCOUNT_KEYS, field, "field");
  return {
    account: readAddress(required(object, "account", field), `${field}.account`),
    base: readWei(required(object, "base", field), `${field}.base`),
    bond: readWei(required(object, "bond", field), `${field}.bond`),
    registered: readBoolean(required(object, "registered", field), `${field}.registered`),
    suspended: readBoolean(required(object, "suspended", field), `${field}.suspended`),
  };
}

function readEpoch(value: unknown, field: string): AccountEpochInput[] {
  const object = readObject(value, field);
  rejectUnknownKeys(object, EPOCH_KEYS, field, "field");
  const accounts = readArray(required(object, "accounts", field), `${field}.accounts`);
  const seen = new Set<string>();
  return accounts.map((entry, i) => {
    const input = readAccountInput(entry, `${field}.accounts[${i}]`);
    if (seen.has(input.account)) {
      throw new ScenarioError(`${field}.accounts[${i}].account`, `${input.account} appears twice in this epoch`);
    }
    seen.add(input.account);
    return input;
  });
}

/**
 * Reads a parsed scenario JSON; `paramOverrides` (a parsed `--params` file, any subset of the
 * parameters) applies over the scenario's own `params`.
 * @example parseScenario(JSON.parse(text), undefined).epochs.length
 */
export function parseScenario(json: unknown, paramOverrides: unknown): Scenario {
  const object = readObject(json, "scenario");
  rejectUnknownKeys(object, SCENARIO_KEYS, "scenario", "field");
  // With --params, the scenario's own set may be invalid on its own (e.g. lambdaDown raised
  // above a lambdaUp that --params raises further): check the relations on the final set.
  const layered = paramOverrides !== undefined;
  let params = object["params"] === undefined
    ? DEFAULT_REWARD_PARAMS
    : parseRewardParams(object["params"], "params", DEFAULT_REWARD_PARAMS, { checkInvariants: !layered });
  if (layered) params = parseRewardParams(paramOverrides, "--params", params);
  const epochs = readArray(required(object, "epochs", "scenario"), "epochs").map((epoch, i) =>
    readEpoch(epoch, `epochs[${i}]`),
  );
  return { params, epochs };
}
