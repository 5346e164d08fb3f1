/**
 * The validator's shared types: what one check of a sampled request says, and the verdict on a
 * sample after every check ran. checks.ts produces them; strikes/evidence/reports consume them.
 */
import type { Address } from "viem";

export type CheckName = "logprobs" | "sampling" | "tokenization" | "speed" | "usage";

export type CheckResult = {
  check: CheckName;
  pass: boolean;
  /** how bad a failure is, 0..1 */
  severity: number;
  /** the measured statistic and the threshold it was compared with */
  measured: number;
  threshold: number;
  detail: string;
};

export type SampleVerdict = {
  requestId: string;
  epoch: number;
  node: Address;
  account: Address;
  model: string;
  flagged: boolean;
  results: CheckResult[];
  pass: boolean;
  /** recomputed logprobs etc., kept as evidence */
  recomputation: unknown;
};
