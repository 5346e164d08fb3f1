/**
 * The oracle's data folder: per epoch the report (exact bytes, also served over HTTP), the state
 * after the epoch, the oracle's own signature and a journal of the side effects done. Every file is
 * written to a temporary name, flushed and renamed, so a crash leaves either the old file or the
 * new one. The state is written last: its presence means the epoch's computation is complete.
 *
 *   <dataDir>/epochs/<n>/report.json      canonical report (its keccak256 is the on-chain reportHash)
 *   <dataDir>/epochs/<n>/state.json       OracleState after epoch n
 *   <dataDir>/epochs/<n>/signature.json   this oracle's SignedEpochRoot
 *   <dataDir>/epochs/<n>/journal.json     steps done (proposed, settled, buyback) with tx hashes
 */
import { mkdir, open, readFile, readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import type { Hex } from "viem";

export type StepName = "proposed" | "settled" | "boughtBack";

export type JournalEntry = { at: string; txHashes: Hex[]; note?: string };

/** What was done for an epoch after its computation; each step is also idempotent on-chain. */
export type Journal = Partial<Record<StepName, JournalEntry>>;

export class EpochFiles {
  readonly #root: string;

  constructor(dataDir: string) {
    this.#root = join(dataDir, "epochs");
  }

  dirOf(epoch: number): string {
    return join(this.#root, String(epoch));
  }

  async readReport(epoch: number): Promise<string | null> {
    return this.#read(epoch, "report.json");
  }

  async readState(epoch: number): Promise<string | null> {
    return this.#read(epoch, "state.json");
  }

  async readSignature(epoch: number): Promise<string | null> {
    return this.#read(epoch, "signature.json");
  }

  async readJournal(epoch: number): Promise<Journal> {
    const text = await this.#read(epoch, "journal.json");
    return text === null ? {} : (JSON.parse(text) as Journal);
  }

  /** Writes the report first and the state last (the state marks the computation complete). */
  async writeComputation(epoch: number, reportJson: string, stateJson: string): Promise<void> {
    await this.#write(epoch, "report.json", reportJson);
    await this.#write(epoch, "state.json", stateJson);
  }

  async writeSignature(epoch: number, json: string): Promise<void> {
    await this.#write(epoch, "signature.json", json);
  }

  async recordStep(epoch: number, step: StepName, entry: JournalEntry): Promise<void> {
    const journal = await this.readJournal(epoch);
    journal[step] = entry;
    await this.#write(epoch, "journal.json", `${JSON.stringify(journal, null, 2)}\n`);
  }

  /** The highest epoch whose state is on disk, or -1. */
  async lastComputedEpoch(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.#root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return -1;
      throw error;
    }
    let last = -1;
    for (const name of names) {
      if (!/^\d+$/.test(name)) continue;
      const epoch = Number(name);
      if (epoch > last && (await this.readState(epoch)) !== null) last = epoch;
    }
    return last;
  }

  async #read(epoch: number, name: string): Promise<string | null> {
    try {
      return await readFile(join(this.dirOf(epoch), name), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async #write(epoch: number, name: string, text: string): Promise<void> {
    const dir = this.dirOf(epoch);
    await mkdir(dir, { recursive: true });
    const path = join(dir, name);
    const temp = `${path}.${process.pid}.tmp`;
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  }
}
