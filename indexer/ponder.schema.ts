/**
 * The indexer's tables. State tables (account, node, epoch, proposal, …) hold the latest value of
 * each thing; history tables (stake, bond, claim, …) hold one row per event with its block,
 * time and transaction; `contract_event` holds every event of every contract, decoded, so that
 * nothing a contract emits is lost even where no table models it.
 */
import { bigint, hex, index, onchainTable } from "ponder";

/** Where and when an event happened (history rows); fresh builders for each table. */
const at = () => ({
  block: bigint().notNull(),
  timestamp: bigint().notNull(),
  transaction: hex().notNull(),
});

export const contractEvent = onchainTable(
  "contract_event",
  (t) => ({
    id: t.text().primaryKey(),
    contract: t.text().notNull(),
    name: t.text().notNull(),
    address: t.hex().notNull(),
    /** Decoded arguments, bigints as decimal strings. */
    args: t.json().notNull(),
    logIndex: t.integer().notNull(),
    ...at(),
  }),
  (table) => ({ byName: index().on(table.contract, table.name), byBlock: index().on(table.block) }),
);

/** POD and sPOD balances (sPOD in shares), vote delegation and weights, bond and claim totals. */
export const account = onchainTable("account", (t) => ({
  address: t.hex().primaryKey(),
  pod: t.bigint().notNull().default(0n),
  spod: t.bigint().notNull().default(0n),
  podDelegate: t.hex(),
  spodDelegate: t.hex(),
  podVotes: t.bigint().notNull().default(0n),
  spodVotes: t.bigint().notNull().default(0n),
  /** Active bond, sPOD shares. */
  bonded: t.bigint().notNull().default(0n),
  /** Bond waiting to be withdrawn (still slashable), sPOD shares. */
  unbonding: t.bigint().notNull().default(0n),
  bondFreezes: t.bigint().notNull().default(0n),
  /** Cumulative reward claimed so far (POD wei). */
  claimed: t.bigint().notNull().default(0n),
  suspended: t.boolean().notNull().default(false),
  banned: t.boolean().notNull().default(false),
  /** In the validator set of the latest reconciled report. */
  validator: t.boolean().notNull().default(false),
}));

/** sPOD deposits and withdrawals (ERC-4626). */
export const stake = onchainTable("stake", (t) => ({
  id: t.text().primaryKey(),
  kind: t.text().notNull(), // "deposit" | "withdraw"
  sender: t.hex().notNull(),
  owner: t.hex().notNull(),
  receiver: t.hex(),
  assets: t.bigint().notNull(),
  shares: t.bigint().notNull(),
  ...at(),
}), (table) => ({ byOwner: index().on(table.owner) }));

/** The current cooldown of each account. */
export const cooldown = onchainTable("cooldown", (t) => ({
  account: t.hex().primaryKey(),
  status: t.text().notNull(), // "cooling" | "cancelled"
  shares: t.bigint().notNull(),
  opensAt: t.bigint().notNull(),
  closesAt: t.bigint().notNull(),
  updatedAt: t.bigint().notNull(),
}));

export const bond = onchainTable("bond", (t) => ({
  id: t.text().primaryKey(),
  account: t.hex().notNull(),
  payer: t.hex().notNull(),
  shares: t.bigint().notNull(),
  activeShares: t.bigint().notNull(),
  ...at(),
}), (table) => ({ byAccount: index().on(table.account) }));

export const unbond = onchainTable("unbond", (t) => ({
  id: t.text().primaryKey(),
  kind: t.text().notNull(), // "requested" | "cancelled" | "withdrawn"
  account: t.hex().notNull(),
  shares: t.bigint().notNull(),
  /** Pending shares after a request; active shares after a cancellation. */
  balanceAfter: t.bigint(),
  unlocksAt: t.bigint(),
  ...at(),
}), (table) => ({ byAccount: index().on(table.account) }));

export const slash = onchainTable("slash", (t) => ({
  id: t.text().primaryKey(),
  account: t.hex().notNull(),
  recipient: t.hex().notNull(),
  fromActive: t.bigint().notNull(),
  fromPending: t.bigint().notNull(),
  reason: t.hex().notNull(),
  ...at(),
}), (table) => ({ byAccount: index().on(table.account) }));

export const node = onchainTable("node", (t) => ({
  nodeKey: t.hex().primaryKey(),
  account: t.hex().notNull(),
  status: t.text().notNull(), // "active" | "deregistered" | "banned"
  suspended: t.boolean().notNull().default(false),
  models: t.hex().array().notNull(),
  metadataURI: t.text().notNull(),
  /** Validator reports against this node, and users' flags. */
  strikesReported: t.integer().notNull().default(0),
  flags: t.integer().notNull().default(0),
  registeredAt: t.bigint().notNull(),
  updatedAt: t.bigint().notNull(),
}), (table) => ({ byAccount: index().on(table.account) }));

export const nodeReport = onchainTable("node_report", (t) => ({
  reportId: t.bigint().primaryKey(),
  nodeKey: t.hex().notNull(),
  reporter: t.hex().notNull(),
  account: t.hex().notNull(),
  evidenceHash: t.hex().notNull(),
  status: t.text().notNull(), // "open" | "confirmed" | "dismissed"
  slashedShares: t.bigint(),
  reporterShares: t.bigint(),
  burnShares: t.bigint(),
  reporterPoolReward: t.bigint(),
  ...at(),
}));

/** Validator-eligible accounts per reconciled epoch report. */
export const validator = onchainTable("validator", (t) => ({
  id: t.text().primaryKey(),
  epoch: t.bigint().notNull(),
  account: t.hex().notNull(),
}), (table) => ({ byEpoch: index().on(table.epoch) }));

export const epoch = onchainTable("epoch", (t) => ({
  epoch: t.bigint().primaryKey(),
  root: t.hex().notNull(),
  total: t.bigint().notNull(),
  reportHash: t.hex().notNull(),
  validatorsRoot: t.hex().notNull(),
  claimableAt: t.bigint().notNull(),
  proposer: t.hex().notNull(),
  /** "proposed" | "accepted" | "revoked"; also derived at query time from claimableAt. */
  status: t.text().notNull(),
  revokedBy: t.hex(),
  /** "pending" | "match" | "mismatch" */
  reconciliation: t.text().notNull(),
  reconciliationReason: t.text(),
  mismatchedAccounts: t.hex().array().notNull(),
  /** The oracle whose report was checked. */
  reportSource: t.text(),
  reconciliationAttempts: t.integer().notNull().default(0),
  ...at(),
}));

/** The exact bytes of each reconciled epoch's report (served at /epochs/:n/report). */
export const epochReport = onchainTable("epoch_report", (t) => ({
  epoch: t.bigint().primaryKey(),
  reportHash: t.hex().notNull(),
  body: t.text().notNull(),
}));

export const claim = onchainTable("claim", (t) => ({
  id: t.text().primaryKey(),
  account: t.hex().notNull(),
  epoch: t.bigint().notNull(),
  cumulative: t.bigint().notNull(),
  amount: t.bigint().notNull(),
  bonded: t.boolean().notNull(),
  bonus: t.bigint().notNull(),
  ...at(),
}), (table) => ({ byAccount: index().on(table.account) }));

export const creditDeposit = onchainTable("credit_deposit", (t) => ({
  id: t.text().primaryKey(),
  account: t.hex().notNull(),
  asset: t.hex().notNull(),
  payer: t.hex().notNull(),
  amount: t.bigint().notNull(),
  ...at(),
}), (table) => ({ byAccount: index().on(table.account) }));

/** Spend grants settled per epoch (CreditVault UsageSettled). */
export const grantSettlement = onchainTable("grant_settlement", (t) => ({
  id: t.text().primaryKey(),
  grantId: t.hex().notNull(),
  account: t.hex().notNull(),
  gateway: t.hex().notNull(),
  asset: t.hex().notNull(),
  epoch: t.bigint().notNull(),
  amount: t.bigint().notNull(),
  cumulativeSpent: t.bigint().notNull(),
  ...at(),
}), (table) => ({ byAccount: index().on(table.account) }));

/** Credit withdrawals, one per account and asset at a time. */
export const withdrawal = onchainTable("withdrawal", (t) => ({
  id: t.text().primaryKey(), // account-asset
  account: t.hex().notNull(),
  asset: t.hex().notNull(),
  amount: t.bigint().notNull(),
  readyAt: t.bigint().notNull(),
  status: t.text().notNull(), // "requested" | "cancelled" | "completed"
  updatedAt: t.bigint().notNull(),
}));

export const buyback = onchainTable("buyback", (t) => ({
  id: t.text().primaryKey(),
  kind: t.text().notNull(), // "bought" | "distributed" | "revenue"
  asset: t.hex(),
  caller: t.hex(),
  amountIn: t.bigint(),
  podOut: t.bigint(),
  minOut: t.bigint(),
  burned: t.bigint(),
  toStakers: t.bigint(),
  toRewardsPool: t.bigint(),
  ...at(),
}));

export const proposal = onchainTable("proposal", (t) => ({
  proposalId: t.bigint().primaryKey(),
  proposer: t.hex().notNull(),
  targets: t.hex().array().notNull(),
  values: t.bigint().array().notNull(),
  calldatas: t.hex().array().notNull(),
  description: t.text().notNull(),
  voteStart: t.bigint().notNull(),
  voteEnd: t.bigint().notNull(),
  status: t.text().notNull(), // "created" | "queued" | "executed" | "canceled"
  eta: t.bigint(),
  forVotes: t.bigint().notNull().default(0n),
  againstVotes: t.bigint().notNull().default(0n),
  abstainVotes: t.bigint().notNull().default(0n),
  ...at(),
}));

export const vote = onchainTable("vote", (t) => ({
  id: t.text().primaryKey(), // proposalId-voter
  proposalId: t.bigint().notNull(),
  voter: t.hex().notNull(),
  support: t.integer().notNull(),
  weight: t.bigint().notNull(),
  reason: t.text().notNull(),
  ...at(),
}), (table) => ({ byProposal: index().on(table.proposalId) }));

/** ProtocolParams changes: a named parameter, or a model's parameters. */
export const parameterChange = onchainTable("parameter_change", (t) => ({
  id: t.text().primaryKey(),
  kind: t.text().notNull(), // "parameter" | "model"
  name: t.hex().notNull(),
  oldValue: t.text().notNull(),
  newValue: t.text().notNull(),
  ...at(),
}), (table) => ({ byName: index().on(table.name) }));
