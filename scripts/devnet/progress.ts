/**
 * A short progress display for the devnet's start: one line per step with its elapsed time. On a
 * terminal the running steps share one live line with a spinner; elsewhere (CI, pipes) each step
 * prints once when it finishes.
 */
const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export class Progress {
  readonly #out: NodeJS.WriteStream;
  readonly #live: boolean;
  readonly #started = Date.now();
  readonly #running = new Map<string, { label: string; since: number; detail: string }>();
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(out: NodeJS.WriteStream = process.stderr) {
    this.#out = out;
    this.#live = out.isTTY === true && process.env.CI === undefined;
  }

  /** Seconds since the display started. */
  elapsed(): number {
    return (Date.now() - this.#started) / 1000;
  }

  /** Runs `work` as step `label`, showing it while it runs and marking it done or failed. */
  async step<T>(label: string, work: (detail: (text: string) => void) => Promise<T>): Promise<T> {
    const id = `${label}#${Math.random()}`;
    this.#running.set(id, { label, since: Date.now(), detail: "" });
    this.#tick();
    try {
      const value = await work((text) => {
        const entry = this.#running.get(id);
        if (entry !== undefined) entry.detail = text;
      });
      this.#finish(id, "✔");
      return value;
    } catch (error) {
      this.#finish(id, "✖");
      throw error;
    }
  }

  /** Prints a line above the live status. */
  line(text: string): void {
    this.#clear();
    this.#out.write(`${text}\n`);
    this.#render();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clear();
  }

  #finish(id: string, mark: string): void {
    const entry = this.#running.get(id);
    this.#running.delete(id);
    if (entry === undefined) return;
    const seconds = ((Date.now() - entry.since) / 1000).toFixed(1);
    this.line(`${mark} ${entry.label} (${seconds} s)`);
    if (this.#running.size === 0) this.stop();
  }

  #tick(): void {
    if (!this.#live || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.#frame = (this.#frame + 1) % FRAMES.length;
      this.#render();
    }, 100);
    this.#timer.unref();
  }

  #render(): void {
    if (!this.#live || this.#running.size === 0) return;
    const parts = [...this.#running.values()].map((r) => (r.detail === "" ? r.label : `${r.label}: ${r.detail}`));
    const text = `${FRAMES[this.#frame]} [${this.elapsed().toFixed(0)} s] ${parts.join(" · ")}`;
    const width = this.#out.columns ?? 120;
    this.#out.write(`\r\x1b[2K${text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text}`);
  }

  #clear(): void {
    if (this.#live) this.#out.write("\r\x1b[2K");
  }
}
