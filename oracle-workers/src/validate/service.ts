/**
 * The validator service: pulls sampled pairs from the gateways, runs the checks with the approved
 * model, keeps strike records per node and, once per node, acts on a conviction: writes the
 * evidence, reports the node on-chain (when this account is a validator) and stores the
 * invalidations of the affected epochs for the oracles. I/O is injected (sample source, reporter,
 * speed bounds), so tests drive the real loop with real samples.
 */
import { getAddress, type Address, type Hex } from "viem";
import type { EpochSample, EpochSamplesPage } from "../../../sdk/src/epochData.ts";
import type { CalibrationTable } from "./calibration.ts";
import { SampleMismatchError, validateSample, type SampleInput, type SampleReceipt, type SpeedBounds } from "./checks.ts";
import { DEFAULT_DECIDE_PARAMS, decide, type DecideParams, type Decision } from "./decide.ts";
import { buildEvidence, writeEvidence, type SampledPair } from "./evidence.ts";
import { invalidationsFor, storeInvalidations } from "./invalidations.ts";
import type { LogprobRecomputer } from "./recompute.ts";
import type { TextTokenizer } from "./stats.ts";
import { loadMemory, saveMemory } from "./recordStore.ts";
import { nodeStatus, ValidatorMetrics, type NodeStatus } from "./status.ts";
import { DEFAULT_WEIGHTING, emptyRecord, hasSeen, recordSample, type NodeRecord, type StrikeWeighting } from "./strikes.ts";
import type { SampleVerdict } from "./types.ts";

/** Pages of sampled pairs after a cursor (the gateways' `GET /v1/samples`, or a stand-in). */
export interface SampleSource {
  fetch(after: string | undefined, limit: number, signal?: AbortSignal): Promise<EpochSamplesPage>;
}

/** Where the source's cursor is kept between runs. */
export interface CursorStore {
  load(): Promise<string | undefined>;
  save(cursor: string): Promise<void>;
}

/** One approved model as the checks need it. */
export type ModelValidator = { recomputer: LogprobRecomputer; tokenizer: TextTokenizer; eosTokenId: number; chatFormat?: string | undefined };

/** Reports a convicted node on-chain; null when this account may not report (not a validator). */
export interface NodeReporter {
  report(node: Address, evidenceHash: Hex): Promise<{ reportId: bigint; alreadyReported: boolean } | null>;
}

export type Log = (level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;

export type ValidatorServiceOptions = {
  source: SampleSource;
  cursor?: CursorStore | undefined;
  /** Users' flagged responses (the gateways' /v1/flags): validated before any other sample. */
  flags?: SampleSource | undefined;
  flagsCursor?: CursorStore | undefined;
  models: ReadonlyMap<string, ModelValidator>;
  calibration: CalibrationTable;
  /** The governed speed bounds of a model (ProtocolParams.modelParams); null when not governed. */
  speedBounds: (model: string) => Promise<SpeedBounds | null>;
  /** Folder of evidence/ and invalidations/. */
  dataDir: string;
  /** This validator's account (named in the evidence). */
  validator: Address;
  /** The chain receipts must be signed for; a receipt of another chain is set aside. */
  chainId?: number | undefined;
  reporter?: NodeReporter | undefined;
  decideParams?: DecideParams | undefined;
  weighting?: StrikeWeighting | undefined;
  pageSize?: number | undefined;
  pollMs?: number | undefined;
  log?: Log | undefined;
};

/** What happened to one conviction: evidence hash, report id (null: not reported) and epochs. */
export type Conviction = {
  node: Address;
  evidenceHash: Hex;
  evidencePath: string;
  reportId: bigint | null;
  /** Epochs invalidated: the evidence's, then later epochs the node was still sampled in. */
  epochs: number[];
  decision: Decision;
  /** Samples of the node recorded when it was convicted. */
  samples: number;
  reportPending: boolean;
};

export class ValidatorService {
  readonly metrics = new ValidatorMetrics();
  private readonly records = new Map<Address, NodeRecord>();
  private readonly decisions = new Map<Address, Decision>();
  private readonly convictions = new Map<Address, Conviction>();
  /** Pairs of failing samples, kept for the evidence (by request id). */
  private readonly failingPairs = new Map<string, SampledPair>();
  private readonly options: ValidatorServiceOptions;
  private readonly log: Log;
  private cursor: string | undefined;
  private flagsCursor: string | undefined;
  private cursorLoaded = false;
  private skipped = 0;

  constructor(options: ValidatorServiceOptions) {
    this.options = options;
    this.log = options.log ?? (() => {});
  }

  /** Validates every page the source has now; returns the number of samples judged. */
  async drain(signal?: AbortSignal): Promise<number> {
    if (!this.cursorLoaded) {
      await this.restore();
      this.cursor = await this.options.cursor?.load();
      this.flagsCursor = await this.options.flagsCursor?.load();
      this.cursorLoaded = true;
    }
    const pending = [...this.convictions.values()].filter((c) => c.reportPending);
    for (const c of pending) await this.sendReport(c);
    if (pending.length > 0) await this.persist();
    // Flagged responses first: a user's doubt is the strongest lead.
    const flags = this.options.flags;
    let judged = flags === undefined ? 0 : await this.drainFeed(flags, true, signal);
    judged += await this.drainFeed(this.options.source, false, signal);
    return judged;
  }

  private async drainFeed(source: SampleSource, flagged: boolean, signal: AbortSignal | undefined): Promise<number> {
    let judged = 0;
    for (;;) {
      signal?.throwIfAborted();
      const cursor = flagged ? this.flagsCursor : this.cursor;
      const page = await source.fetch(cursor, this.options.pageSize ?? 32, signal);
      let judgedHere = 0;
      for (const sample of page.data) if (await this.handle(sample, flagged)) judgedHere++;
      judged += judgedHere;
      // Records first, then the cursor: a crash in between re-reads the page, and judges it once.
      if (judgedHere > 0) await this.persist();
      const moves = page.next !== null && page.next !== cursor;
      if (moves) await this.advance(page.next!, flagged);
      if (!moves || page.data.length === 0) return judged;
    }
  }

  /** Polls until `signal` aborts; a failing poll is logged and retried at the next tick. */
  async run(signal: AbortSignal): Promise<void> {
    const pollMs = this.options.pollMs ?? 2_000;
    while (!signal.aborted) {
      try {
        await this.drain(signal);
      } catch (error) {
        if (signal.aborted) break;
        this.log("error", "validator poll failed", { error: error instanceof Error ? error.message : String(error) });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done() {
          signal.removeEventListener("abort", done);
          clearTimeout(timer);
          resolve();
        }
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  /** Per-node status, convicted nodes with their report. */
  status(): { nodes: NodeStatus[]; skipped: number; cursor: string | null } {
    const nodes = [...this.records.values()].map((record) => {
      const c = this.convictions.get(record.node);
      const report = c?.reportId == null ? null : { reportId: c.reportId, evidenceHash: c.evidenceHash };
      const status = nodeStatus(record, this.decisions.get(record.node) ?? decide(record, this.decideParams), report);
      // Convicted but not (yet) reported: the evidence exists all the same.
      return c !== undefined && report === null ? { ...status, evidenceHash: c.evidenceHash } : status;
    });
    return { nodes, skipped: this.skipped, cursor: this.cursor ?? null };
  }

  conviction(node: Address): Conviction | undefined {
    return this.convictions.get(getAddress(node));
  }

  private get decideParams(): DecideParams {
    return this.options.decideParams ?? DEFAULT_DECIDE_PARAMS;
  }

  /** Strike records, failing pairs and convictions of a previous run (DATA_DIR/records.json). */
  private async restore(): Promise<void> {
    const memory = await loadMemory(this.options.dataDir);
    for (const record of memory.records) {
      this.records.set(record.node, record);
      this.decisions.set(record.node, decide(record, this.decideParams));
    }
    for (const pair of memory.pairs) this.failingPairs.set(pair.requestId, pair);
    for (const conviction of memory.convictions) this.convictions.set(conviction.node, { ...conviction });
    if (memory.records.length > 0) this.log("info", "strike records restored", { nodes: memory.records.length, convictions: memory.convictions.length });
  }

  private async persist(): Promise<void> {
    await saveMemory(this.options.dataDir, { records: [...this.records.values()], pairs: [...this.failingPairs.values()], convictions: [...this.convictions.values()] });
  }

  private async advance(cursor: string, flagged = false): Promise<void> {
    if (flagged) {
      this.flagsCursor = cursor;
      await this.options.flagsCursor?.save(cursor);
      return;
    }
    this.cursor = cursor;
    await this.options.cursor?.save(cursor);
  }

  /** One sample: verdict, record, decision and, on a first conviction, the consequences. */
  private async handle(sample: EpochSample, flagged = false): Promise<boolean> {
    // The same request served by two gateways (or a page re-read) is judged once.
    const known = this.records.get(getAddress(sample.receipt.nodeAddress));
    if (known !== undefined && hasSeen(known.seen, sample.requestId)) return false;
    const verdict = await this.judge(sample, flagged);
    if (verdict === null) return false;
    this.metrics.sample(verdict);
    const node = getAddress(verdict.node);
    const before = this.records.get(node) ?? emptyRecord(node, getAddress(verdict.account));
    const record = recordSample(before, verdict, this.options.weighting ?? DEFAULT_WEIGHTING);
    this.records.set(node, record);
    if (!verdict.pass) this.failingPairs.set(verdict.requestId, pairOf(sample));
    const decision = decide(record, this.decideParams);
    this.decisions.set(node, decision);
    const convicted = this.convictions.get(node);
    if (convicted === undefined) {
      if (decision.convict) await this.convict(record, decision, sample.epoch);
    } else if (!convicted.epochs.includes(sample.epoch)) {
      // A convicted node still serving: its later epochs are not paid either (same evidence).
      await storeInvalidations(this.options.dataDir, invalidationsFor(node, [sample.epoch], convicted.evidenceHash, convicted.decision.reason));
      convicted.epochs = [...convicted.epochs, sample.epoch].sort((a, b) => a - b);
    }
    return true;
  }

  private async judge(sample: EpochSample, flagged: boolean): Promise<SampleVerdict | null> {
    const model = this.options.models.get(sample.request.model);
    if (model === undefined) return this.setAside(sample, `model ${sample.request.model} is not validated here`);
    const speedBounds = await this.options.speedBounds(sample.request.model);
    if (speedBounds === null) return this.setAside(sample, `model ${sample.request.model} has no governed speed bounds`);
    try {
      return await validateSample({ ...sampleInput(sample), flagged }, sample.receipt as SampleReceipt, {
        recomputer: model.recomputer,
        tokenizer: model.tokenizer,
        eosTokenId: model.eosTokenId,
        calibration: this.options.calibration.for(sample.request.model),
        speedBounds,
        chatFormat: model.chatFormat,
        chainId: this.options.chainId,
      });
    } catch (error) {
      // Not held against the node: the gateway served something the node did not sign.
      if (error instanceof SampleMismatchError) return this.setAside(sample, error.message);
      throw error;
    }
  }

  private setAside(sample: EpochSample, reason: string): null {
    this.skipped++;
    this.log("warn", "sample skipped", { requestId: sample.requestId, reason });
    return null;
  }

  private async convict(record: NodeRecord, decision: Decision, currentEpoch: number): Promise<void> {
    this.metrics.conviction();
    const { dataDir, validator } = this.options;
    const bundle = buildEvidence({
      node: record.node,
      account: record.account,
      validator,
      failures: record.failures,
      pairs: record.failures.flatMap((v) => this.failingPairs.get(v.requestId) ?? []),
      decision,
      params: this.decideParams,
      maxWeight: (this.options.weighting ?? DEFAULT_WEIGHTING).maxWeight,
      currentEpoch,
    });
    const { hash, path } = await writeEvidence(dataDir, bundle);
    await storeInvalidations(dataDir, invalidationsFor(record.node, bundle.epochs, hash, decision.reason));
    const conviction: Conviction = { node: record.node, evidenceHash: hash, evidencePath: path, reportId: null, epochs: [...bundle.epochs], decision, samples: record.samples, reportPending: false };
    this.convictions.set(record.node, conviction);
    this.log("warn", "node convicted", { node: record.node, evidenceHash: hash, epochs: bundle.epochs, reason: decision.reason });
    await this.sendReport(conviction);
  }

  /** Reports a conviction; a failure leaves it pending, retried at the next drain. */
  private async sendReport(conviction: Conviction): Promise<void> {
    if (this.options.reporter === undefined) return;
    const { node, evidenceHash } = conviction;
    conviction.reportPending = false;
    try {
      const result = await this.options.reporter.report(node, evidenceHash);
      if (result === null) return;
      conviction.reportId = result.reportId;
      this.metrics.report(result.alreadyReported ? "already_open" : "sent");
      this.log("info", "node reported", { node, reportId: result.reportId.toString(), alreadyReported: result.alreadyReported });
    } catch (error) {
      this.metrics.report("failed");
      conviction.reportPending = true;
      this.log("error", "report failed", { node, error: error instanceof Error ? error.message : String(error) });
    }
  }
}

/** The wire sample as the checks take it: a null logprob is -Infinity (JSON has none). */
export function sampleInput(sample: EpochSample): SampleInput {
  return {
    requestId: sample.requestId,
    request: sample.request,
    responseText: sample.responseText,
    promptTokenIds: sample.promptTokenIds,
    outputTokenIds: sample.outputTokenIds,
    logprobs: { chosen: sample.logprobs.chosen.map((l) => l ?? -Infinity), top: sample.logprobs.top },
  } as SampleInput;
}

function pairOf(sample: EpochSample): SampledPair {
  return { requestId: sample.requestId, model: sample.request.model, promptTokenIds: sample.promptTokenIds, outputTokenIds: sample.outputTokenIds, responseText: sample.responseText };
}
