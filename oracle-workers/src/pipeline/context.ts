/** Everything one oracle process works with, built once at startup (pipeline/start.ts). */
import type { Account, Address, Chain, LocalAccount, PublicClient, Transport, WalletClient } from "viem";
import type { OracleContracts } from "../epoch/types.ts";
import type { GatewayFetchOptions, GatewaySource } from "../sources/gateway.ts";
import type { InvalidationSources } from "../sources/invalidations.ts";
import type { EpochFiles } from "./files.ts";
import type { OracleMetrics } from "../cosign/metrics.ts";
import type { PipelineStep } from "./epoch.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export type SigningWallet = WalletClient<Transport, Chain | undefined, Account>;

export type OracleContext = {
  client: PublicClient;
  chainId: number;
  contracts: OracleContracts;
  /** This oracle's key: signs epoch roots and pays for proposals and buybacks. */
  oracle: LocalAccount;
  oracleWallet: SigningWallet;
  /** The gateway's key, when this oracle settles that gateway's grants (settle is the gateway's call). */
  settler: SigningWallet | undefined;
  gateways: readonly GatewaySource[];
  fetchOptions: GatewayFetchOptions;
  /** Base URLs of the other oracles (their signatures and reports). */
  peers: readonly string[];
  invalidations: InvalidationSources;
  /** Assets the buyback is triggered for after settlement. */
  buybackAssets: readonly Address[];
  files: EpochFiles;
  log: Logger;
  metrics: OracleMetrics;
  timing: {
    /** Wall-clock wait past an epoch's close for receipts of requests finishing at the boundary (0: none). */
    closeGraceMs: number;
    /** How often a delayed epoch is retried. */
    pollMs: number;
    peerTimeoutMs: number;
  };
  /** Test hooks: a throw here simulates a crash right after a step's side effect. */
  hooks: { afterStep?: (epoch: number, step: PipelineStep) => void | Promise<void> };
};
