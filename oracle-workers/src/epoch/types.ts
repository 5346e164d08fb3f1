/**
 * The epoch pipeline's shared types: what the chain says at an epoch's close, what validators
 * invalidated, the oracle's state between epochs and what one epoch's computation produces.
 * The computation (compute.ts) is a pure function of these; I/O lives in chain/, sources/ and
 * pipeline/.
 */
import type { Address, Hex } from "viem";
import type { EpochReceipt } from "../../../sdk/src/epochData.ts";
import type { EpochRoot } from "../../../sdk/src/typedData.ts";
import type { ClosingBlock, DropReason, OracleContracts } from "../../../sdk/src/epochReport.ts";
import type { RewardParams } from "../../../sdk/src/rewardParams.ts";
import type { AccountState } from "../rewards/state.ts";

/** The report's shapes live with the report format in the SDK. */
export type { ClosingBlock, DropReason, OracleContracts };

/** A node key as the registry knows it at the closing block. */
export type NodeAtClose = {
  /** The account it is registered under; null when never registered. */
  account: Address | null;
  /** Registered and not deregistered (status Active). */
  active: boolean;
  suspended: boolean;
  banned: boolean;
};

/** An account at the closing block: the engine's inputs besides its base reward. */
export type AccountAtClose = {
  /** activeBondAt(account, closesAt - 1): POD wei at the vault's rate. */
  bond: bigint;
  /** At least one of its known node keys is active under it. */
  registered: boolean;
  /** Suspended or banned in the registry (accountStatus). */
  suspended: boolean;
};

/** Everything read from the chain for one epoch, at one block (the closing block). */
export type EpochChainState = {
  chainId: number;
  epoch: number;
  /** genesis + (epoch + 1) * epochLength, unix seconds. */
  closesAt: bigint;
  /** The last block with timestamp < closesAt; every read below is at this block. */
  block: ClosingBlock;
  /** The reward engine's parameters (ProtocolParams.boostParams). */
  params: RewardParams;
  /** ProtocolParams epochEmissionBudget (POD wei): the epoch's total may not exceed it. */
  emissionBudget: bigint;
  /** Work weight (ppm) of each model id string seen in receipts; absent when the model is not enabled. */
  modelWeights: ReadonlyMap<string, number>;
  /** Keyed by checksummed node key. */
  nodes: ReadonlyMap<Address, NodeAtClose>;
  /** Keyed by checksummed account: every account in the oracle's state and every node's account. */
  accounts: ReadonlyMap<Address, AccountAtClose>;
};

/** A validator's verdict that a node's receipts of an epoch are not to be paid. */
export type Invalidation = { node: Address; epoch: number; evidenceHash: Hex; reason: string };


/** The oracle's memory between epochs; what epoch n's computation starts from. */
export type OracleState = {
  /** The last epoch closed into this state; -1 before epoch 0. */
  epoch: number;
  /** The cumulative-reward root after `epoch` (zero hash when empty). */
  root: Hex;
  /** The engine's per-account state, checksummed accounts in order of first appearance. */
  accounts: ReadonlyMap<Address, AccountState>;
  /** Node keys seen serving for each account (for its `registered` flag in later epochs). */
  nodeKeys: ReadonlyMap<Address, readonly Address[]>;
};

/** One epoch's inputs, all fetched already. */
export type EpochComputationInput = {
  chain: EpochChainState;
  contracts: OracleContracts;
  /** Every receipt fetched from every gateway, any order. */
  receipts: readonly EpochReceipt[];
  invalidations: readonly Invalidation[];
  previous: OracleState;
};

/** One epoch's result: identical bytes on every honest oracle given the same inputs. */
export type EpochComputation = {
  /** The report's canonical JSON (what is hashed and served, byte for byte). */
  reportJson: string;
  /** keccak256 of reportJson's UTF-8 bytes. */
  reportHash: Hex;
  /** What the oracles sign and propose. */
  epochRoot: EpochRoot;
  /** Validator-eligible accounts, sorted (their tree's root is epochRoot.validatorsRoot). */
  validators: readonly Address[];
  /** The state after this epoch. */
  state: OracleState;
  /** Receipt counts: accepted, and dropped by reason. */
  accepted: number;
  dropped: Readonly<Partial<Record<DropReason, number>>>;
};
