/**
 * The epoch report: canonical JSON (fixed key order, no whitespace, bigints as decimal strings,
 * checksummed addresses, lower-case hashes), so every honest oracle writes the same bytes and
 * reportHash = keccak256 of them goes on-chain. parseEpochReport reads it back (validating every
 * field; the indexer rebuilds the root from `leaves`); diffReports says where two reports differ.
 */
import { keccak256, stringToBytes, type Address, type Hex } from "viem";
import { InputError, readAddress, readArray, readBoolean, readBytes32, readInteger, readObject, readWei } from "./jsonInput.ts";
import { REWARD_PARAM_NAMES, parseRewardParams, type RewardParams } from "./rewardParams.ts";

/** Why a receipt does not pay its node. */
export type DropReason =
  | "unsigned" // no node-signed receipt (the node failed before signing)
  | "bad_signature" // not signed by its node key, malformed or non-canonical signature
  | "wrong_chain" // signed for another chain id
  | "wrong_epoch" // served under another epoch than the one being closed
  | "mismatch" // the signed receipt disagrees with the gateway's record (request id, model, node)
  | "duplicate" // the same (node, request id) was already counted
  | "invalidated" // a validator invalidated this node's receipts of the epoch
  | "node_not_registered" // the node key is not active under the receipt's account at the close
  | "node_banned"
  | "unknown_model"; // the model is not enabled in ProtocolParams

/** Every reason, in the order the oracle's checks run (and the report lists them). */
export const DROP_REASONS: readonly DropReason[] = [
  "unsigned", "wrong_chain", "bad_signature", "wrong_epoch", "mismatch", "duplicate",
  "invalidated", "node_not_registered", "node_banned", "unknown_model",
];

export type DroppedReceipt = { readonly node: Address; readonly requestId: string; readonly reason: DropReason };

/** The contracts the oracle reads, as the report names them. */
export type OracleContracts = {
  protocolParams: Address;
  rewardsDistributor: Address;
  bondManager: Address;
  nodeRegistry: Address;
  creditVault: Address;
  buyback: Address;
};

export type ClosingBlock = { number: bigint; hash: Hex; timestamp: bigint };

export const REPORT_VERSION = 1;
/** At most this many dropped receipts are listed one by one; the rest are counted. */
export const DROPPED_RECEIPTS_LISTED = 10_000;

export type ReportAccount = {
  readonly account: Address;
  readonly work: bigint;
  readonly base: bigint;
  readonly bond: bigint;
  readonly registered: boolean;
  readonly suspended: boolean;
  /** The snapshot that paid this epoch. */
  readonly multiplierPpm: number;
  /** Frozen now for the next epoch. */
  readonly nextMultiplierPpm: number;
  readonly reward: bigint;
  readonly cumulative: bigint;
  readonly validator: boolean;
  readonly boostEligible: boolean;
};

export type ReportParams = RewardParams & {
  readonly emissionBudget: bigint;
  readonly baseBudget: bigint;
  /** Sorted by model id. */
  readonly modelWeights: readonly { readonly model: string; readonly weightPpm: number }[];
};

export type ReportReceipts = {
  readonly accepted: number;
  /** Every reason, in DROP_REASONS order, zeros included. */
  readonly dropped: Readonly<Record<DropReason, number>>;
  /** In canonical order, the first DROPPED_RECEIPTS_LISTED. */
  readonly droppedReceipts: readonly DroppedReceipt[];
  /** Dropped receipts not listed (beyond the cap). */
  readonly droppedReceiptsOmitted: number;
};

export type EpochReport = {
  readonly version: typeof REPORT_VERSION;
  readonly chainId: number;
  readonly epoch: number;
  readonly closesAt: bigint;
  readonly closingBlock: ClosingBlock;
  readonly contracts: OracleContracts;
  readonly previousRoot: Hex;
  /** keccak256 of [receipts, invalidations, chain] digests below. */
  readonly inputsDigest: Hex;
  readonly inputDigests: { readonly receipts: Hex; readonly invalidations: Hex; readonly chain: Hex };
  readonly params: ReportParams;
  readonly receipts: ReportReceipts;
  /** Every account the engine closed, sorted by address. */
  readonly accounts: readonly ReportAccount[];
  /** Σ rewards of this epoch. */
  readonly total: bigint;
  readonly root: Hex;
  readonly validatorsRoot: Hex;
  /** Sorted by address. */
  readonly validators: readonly Address[];
  /** Accounts with a positive cumulative reward, sorted by address: the tree's leaves. */
  readonly leaves: readonly { readonly account: Address; readonly cumulative: bigint }[];
};

const CONTRACT_NAMES = ["protocolParams", "rewardsDistributor", "bondManager", "nodeRegistry", "creditVault", "buyback"] as const;

/** The report as plain JSON values, keys in their fixed order. */
function toJsonValue(report: EpochReport): unknown {
  const p = report.params;
  const params: Record<string, unknown> = {};
  for (const name of REWARD_PARAM_NAMES) params[name] = typeof p[name] === "bigint" ? p[name].toString() : p[name];
  params.emissionBudget = p.emissionBudget.toString();
  params.baseBudget = p.baseBudget.toString();
  params.modelWeights = p.modelWeights.map((m) => ({ model: m.model, weightPpm: m.weightPpm }));
  const dropped: Record<string, number> = {};
  for (const reason of DROP_REASONS) dropped[reason] = report.receipts.dropped[reason];
  const contracts: Record<string, string> = {};
  for (const name of CONTRACT_NAMES) contracts[name] = report.contracts[name];
  return {
    version: report.version,
    chainId: report.chainId,
    epoch: report.epoch,
    closesAt: report.closesAt.toString(),
    closingBlock: {
      number: report.closingBlock.number.toString(),
      hash: report.closingBlock.hash,
      timestamp: report.closingBlock.timestamp.toString(),
    },
    contracts,
    previousRoot: report.previousRoot,
    inputsDigest: report.inputsDigest,
    inputDigests: { receipts: report.inputDigests.receipts, invalidations: report.inputDigests.invalidations, chain: report.inputDigests.chain },
    params,
    receipts: {
      accepted: report.receipts.accepted,
      dropped,
      droppedReceipts: report.receipts.droppedReceipts.map((d) => ({ node: d.node, requestId: d.requestId, reason: d.reason })),
      droppedReceiptsOmitted: report.receipts.droppedReceiptsOmitted,
    },
    accounts: report.accounts.map((a) => ({
      account: a.account, work: a.work.toString(), base: a.base.toString(), bond: a.bond.toString(),
      registered: a.registered, suspended: a.suspended, multiplierPpm: a.multiplierPpm, nextMultiplierPpm: a.nextMultiplierPpm,
      reward: a.reward.toString(), cumulative: a.cumulative.toString(), validator: a.validator, boostEligible: a.boostEligible,
    })),
    total: report.total.toString(),
    root: report.root,
    validatorsRoot: report.validatorsRoot,
    validators: [...report.validators],
    leaves: report.leaves.map((l) => ({ account: l.account, cumulative: l.cumulative.toString() })),
  };
}

/** The canonical bytes (as a string) of a report. */
export function serializeEpochReport(report: EpochReport): string {
  return JSON.stringify(toJsonValue(report));
}

/** keccak256 of the report's UTF-8 bytes. */
export function epochReportHash(reportJson: string): Hex {
  return keccak256(stringToBytes(reportJson));
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const count = (value: unknown, field: string) => readInteger(value, field, 0, MAX_SAFE);
const ppm = (value: unknown, field: string) => readInteger(value, field, 0, MAX_SAFE);

function readString(value: unknown, field: string): string {
  if (typeof value !== "string") throw new InputError(field, "must be a string");
  return value;
}

function readKeys(object: Readonly<Record<string, unknown>>, keys: readonly string[], field: string): void {
  const actual = Object.keys(object);
  if (actual.length !== keys.length || actual.some((k, i) => k !== keys[i])) {
    throw new InputError(field, `must have exactly the keys ${keys.join(", ")} in that order`);
  }
}

function readDropReason(value: unknown, field: string): DropReason {
  if (!(DROP_REASONS as readonly unknown[]).includes(value)) throw new InputError(field, `unknown drop reason ${JSON.stringify(value)}`);
  return value as DropReason;
}

function readParams(value: unknown, field: string): ReportParams {
  const o = readObject(value, field);
  readKeys(o, [...REWARD_PARAM_NAMES, "emissionBudget", "baseBudget", "modelWeights"], field);
  const rewardFields: Record<string, unknown> = {};
  for (const name of REWARD_PARAM_NAMES) rewardFields[name] = o[name];
  const reward = parseRewardParams(rewardFields, field);
  const modelWeights = readArray(o.modelWeights, `${field}.modelWeights`).map((entry, i) => {
    const m = readObject(entry, `${field}.modelWeights[${i}]`);
    readKeys(m, ["model", "weightPpm"], `${field}.modelWeights[${i}]`);
    return { model: readString(m.model, `${field}.modelWeights[${i}].model`), weightPpm: ppm(m.weightPpm, `${field}.modelWeights[${i}].weightPpm`) };
  });
  return { ...reward, emissionBudget: readWei(o.emissionBudget, `${field}.emissionBudget`), baseBudget: readWei(o.baseBudget, `${field}.baseBudget`), modelWeights };
}

function readReceipts(value: unknown, field: string): ReportReceipts {
  const o = readObject(value, field);
  readKeys(o, ["accepted", "dropped", "droppedReceipts", "droppedReceiptsOmitted"], field);
  const droppedObject = readObject(o.dropped, `${field}.dropped`);
  readKeys(droppedObject, DROP_REASONS, `${field}.dropped`);
  const dropped = {} as Record<DropReason, number>;
  for (const reason of DROP_REASONS) dropped[reason] = count(droppedObject[reason], `${field}.dropped.${reason}`);
  const droppedReceipts = readArray(o.droppedReceipts, `${field}.droppedReceipts`).map((entry, i) => {
    const f = `${field}.droppedReceipts[${i}]`;
    const d = readObject(entry, f);
    readKeys(d, ["node", "requestId", "reason"], f);
    return { node: readAddress(d.node, `${f}.node`), requestId: readString(d.requestId, `${f}.requestId`), reason: readDropReason(d.reason, `${f}.reason`) };
  });
  return { accepted: count(o.accepted, `${field}.accepted`), dropped, droppedReceipts, droppedReceiptsOmitted: count(o.droppedReceiptsOmitted, `${field}.droppedReceiptsOmitted`) };
}

const ACCOUNT_KEYS = ["account", "work", "base", "bond", "registered", "suspended", "multiplierPpm", "nextMultiplierPpm", "reward", "cumulative", "validator", "boostEligible"];

function readAccount(value: unknown, field: string): ReportAccount {
  const a = readObject(value, field);
  readKeys(a, ACCOUNT_KEYS, field);
  const wei = (key: string) => readWei(a[key], `${field}.${key}`);
  const bool = (key: string) => readBoolean(a[key], `${field}.${key}`);
  return {
    account: readAddress(a.account, `${field}.account`), work: wei("work"), base: wei("base"), bond: wei("bond"),
    registered: bool("registered"), suspended: bool("suspended"),
    multiplierPpm: ppm(a.multiplierPpm, `${field}.multiplierPpm`), nextMultiplierPpm: ppm(a.nextMultiplierPpm, `${field}.nextMultiplierPpm`),
    reward: wei("reward"), cumulative: wei("cumulative"), validator: bool("validator"), boostEligible: bool("boostEligible"),
  };
}

const REPORT_KEYS = [
  "version", "chainId", "epoch", "closesAt", "closingBlock", "contracts", "previousRoot", "inputsDigest", "inputDigests",
  "params", "receipts", "accounts", "total", "root", "validatorsRoot", "validators", "leaves",
] as const;

/** Reads and validates a report (any JSON text; the canonical bytes are what serializeEpochReport writes). */
export function parseEpochReport(json: string): EpochReport {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new InputError("report", `not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const o = readObject(raw, "report");
  readKeys(o, REPORT_KEYS, "report");
  readInteger(o.version, "report.version", REPORT_VERSION, REPORT_VERSION);
  const block = readObject(o.closingBlock, "report.closingBlock");
  readKeys(block, ["number", "hash", "timestamp"], "report.closingBlock");
  const contractsObject = readObject(o.contracts, "report.contracts");
  readKeys(contractsObject, CONTRACT_NAMES, "report.contracts");
  const contracts = {} as Record<(typeof CONTRACT_NAMES)[number], Address>;
  for (const name of CONTRACT_NAMES) contracts[name] = readAddress(contractsObject[name], `report.contracts.${name}`);
  const digests = readObject(o.inputDigests, "report.inputDigests");
  readKeys(digests, ["receipts", "invalidations", "chain"], "report.inputDigests");
  return {
    version: REPORT_VERSION,
    chainId: count(o.chainId, "report.chainId"),
    epoch: count(o.epoch, "report.epoch"),
    closesAt: readWei(o.closesAt, "report.closesAt"),
    closingBlock: {
      number: readWei(block.number, "report.closingBlock.number"),
      hash: readBytes32(block.hash, "report.closingBlock.hash"),
      timestamp: readWei(block.timestamp, "report.closingBlock.timestamp"),
    },
    contracts,
    previousRoot: readBytes32(o.previousRoot, "report.previousRoot"),
    inputsDigest: readBytes32(o.inputsDigest, "report.inputsDigest"),
    inputDigests: {
      receipts: readBytes32(digests.receipts, "report.inputDigests.receipts"),
      invalidations: readBytes32(digests.invalidations, "report.inputDigests.invalidations"),
      chain: readBytes32(digests.chain, "report.inputDigests.chain"),
    },
    params: readParams(o.params, "report.params"),
    receipts: readReceipts(o.receipts, "report.receipts"),
    accounts: readArray(o.accounts, "report.accounts").map((a, i) => readAccount(a, `report.accounts[${i}]`)),
    total: readWei(o.total, "report.total"),
    root: readBytes32(o.root, "report.root"),
    validatorsRoot: readBytes32(o.validatorsRoot, "report.validatorsRoot"),
    validators: readArray(o.validators, "report.validators").map((v, i) => readAddress(v, `report.validators[${i}]`)),
    leaves: readArray(o.leaves, "report.leaves").map((entry, i) => {
      const l = readObject(entry, `report.leaves[${i}]`);
      readKeys(l, ["account", "cumulative"], `report.leaves[${i}]`);
      return { account: readAddress(l.account, `report.leaves[${i}].account`), cumulative: readWei(l.cumulative, `report.leaves[${i}].cumulative`) };
    }),
  };
}

export type ReportDiff = {
  /** Top-level fields whose values differ, in report order. */
  readonly fields: readonly string[];
  /** Accounts whose entries differ or that only one report has, sorted. */
  readonly accounts: readonly Address[];
};

/** Where two reports differ (for the loud log when oracles disagree); empty lists when equal. */
export function diffReports(a: EpochReport, b: EpochReport): ReportDiff {
  const x = toJsonValue(a) as Record<string, unknown>;
  const y = toJsonValue(b) as Record<string, unknown>;
  const fields = REPORT_KEYS.filter((key) => JSON.stringify(x[key]) !== JSON.stringify(y[key]));
  const entries = (report: EpochReport) => {
    const map = new Map<string, { account: Address; text: string }>();
    const leaves = new Map(report.leaves.map((l) => [l.account, l.cumulative]));
    for (const account of report.accounts) {
      map.set(account.account.toLowerCase(), { account: account.account, text: JSON.stringify([account, leaves.get(account.account)], (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) });
    }
    for (const leaf of report.leaves) {
      if (!map.has(leaf.account.toLowerCase())) map.set(leaf.account.toLowerCase(), { account: leaf.account, text: `leaf ${leaf.cumulative}` });
    }
    return map;
  };
  const left = entries(a);
  const right = entries(b);
  const differing = new Map<string, Address>();
  for (const [key, entry] of left) if (right.get(key)?.text !== entry.text) differing.set(key, entry.account);
  for (const [key, entry] of right) if (left.get(key)?.text !== entry.text) differing.set(key, entry.account);
  const accounts = [...differing.entries()].sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)).map(([, account]) => account);
  return { fields, accounts };
}

/** One line for the log: "fields root, accounts; accounts 0xAb…, 0xCd…" or "identical". */
export function describeReportDiff(diff: ReportDiff): string {
  if (diff.fields.length === 0 && diff.accounts.length === 0) return "identical";
  const shown = diff.accounts.slice(0, 20).join(", ");
  const more = diff.accounts.length > 20 ? ` and ${diff.accounts.length - 20} more` : "";
  return `differing fields: ${diff.fields.join(", ") || "none"}; differing accounts: ${shown || "none"}${more}`;
}
