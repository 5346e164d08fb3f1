/**
 * The validator's chain I/O around a conviction: its eligibility proof from the claimable
 * epoch's validator set (RewardsDistributor.claimableEpoch(), the set from the oracle's report
 * of that epoch, checked against the on-chain validatorsRoot), the report, and the governed
 * speed bounds of a model (ProtocolParams.modelParams).
 */
import { getAddress, type Address, type Hex } from "viem";
import { protocolParamsAbi, rewardsDistributorAbi } from "../../../sdk/src/abi/contracts.ts";
import { registryModelId } from "../../../sdk/src/modelId.ts";
import type { ChainReader, ChainWriter } from "../chain/client.ts";
import { parseEpochReport } from "../../../sdk/src/epochReport.ts";
import { validatorsRoot } from "../epoch/validators.ts";
import { getWithRetries } from "../sources/http.ts";
import type { SpeedBounds } from "./checks.ts";
import { NotInValidatorSet, reportNode, validatorProof } from "./onchain.ts";
import type { Log, NodeReporter } from "./service.ts";

/** The validator set the oracle's report names does not hash to the on-chain validatorsRoot. */
export class ValidatorSetMismatch extends Error {
  override name = "ValidatorSetMismatch";
}

export type ValidatorSetSource = (epoch: bigint) => Promise<readonly Address[]>;

/** The `validators` of `GET <oracleUrl>/epochs/N/report`. */
export function oracleValidatorSet(oracleUrl: string, timeoutMs = 10_000): ValidatorSetSource {
  return async (epoch) => {
    const url = `${oracleUrl.replace(/\/+$/, "")}/epochs/${epoch}/report`;
    const res = await getWithRetries(url, { timeoutMs, retries: 3, backoffMs: 250, maxBackoffMs: 5_000 });
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
    return parseEpochReport(res.body).validators;
  };
}

export type ChainReporterOptions = {
  wallet: ChainWriter;
  client: Pick<ChainReader, "readContract" | "simulateContract" | "waitForTransactionReceipt">;
  nodeReports: Address;
  rewardsDistributor: Address;
  validatorSet: ValidatorSetSource;
  log?: Log | undefined;
};

export class ChainReporter implements NodeReporter {
  private readonly o: ChainReporterOptions;
  constructor(options: ChainReporterOptions) {
    this.o = options;
  }

  /** Null (logged) when no root is claimable or this account is not in its validator set. */
  async report(node: Address, evidenceHash: Hex): Promise<{ reportId: bigint; alreadyReported: boolean } | null> {
    const { client, wallet, log } = this.o;
    const account = getAddress(wallet.account.address);
    const [exists, epoch, record] = await client.readContract({ address: this.o.rewardsDistributor, abi: rewardsDistributorAbi, functionName: "claimableEpoch" });
    if (!exists) {
      log?.("warn", "no claimable epoch yet: cannot prove validator eligibility, not reporting", { node });
      return null;
    }
    const validators = await this.o.validatorSet(epoch);
    const root = validatorsRoot(validators.map((v) => getAddress(v)));
    if (root.toLowerCase() !== record.validatorsRoot.toLowerCase()) throw new ValidatorSetMismatch(`epoch ${epoch}: the oracle's validator set hashes to ${root}, the chain has ${record.validatorsRoot}`);
    let proof: Hex[];
    try {
      proof = validatorProof(account, validators);
    } catch (error) {
      if (!(error instanceof NotInValidatorSet)) throw error;
      log?.("warn", "this account is not a validator of the claimable epoch: keeps validating without reporting", { account, epoch: epoch.toString(), node });
      return null;
    }
    const result = await reportNode(wallet, client, this.o.nodeReports, node, evidenceHash, proof);
    return { reportId: result.reportId, alreadyReported: result.alreadyReported };
  }
}

/**
 * Speed bounds from ProtocolParams.modelParams; null for an unknown or disabled model. Read at
 * most once per `ttlMs` per model (governance changes are rare; one RPC per sample is waste).
 */
export function chainSpeedBounds(client: Pick<ChainReader, "readContract">, protocolParams: Address, ttlMs = 60_000): (model: string) => Promise<SpeedBounds | null> {
  const cache = new Map<string, { at: number; bounds: SpeedBounds | null }>();
  return async (model) => {
    const hit = cache.get(model);
    if (hit !== undefined && Date.now() - hit.at < ttlMs) return hit.bounds;
    const id = registryModelId(model);
    let bounds: SpeedBounds | null = null;
    if (id !== undefined) {
      const p = await client.readContract({ address: protocolParams, abi: protocolParamsAbi, functionName: "modelParams", args: [id] });
      if (p.enabled) bounds = { minTokensPerSecond: p.minTokensPerSecond, maxTokensPerSecond: p.maxTokensPerSecond };
    }
    cache.set(model, { at: Date.now(), bounds });
    return bounds;
  };
}
