/**
 * The devnet's child processes: each started with the project's own Node, its output kept in a
 * log file (and the last lines in memory for error messages), waited on until it is ready, and
 * stopped by its pid: SIGTERM first, SIGKILL for what has not exited after a grace period.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";

const TAIL_LINES = 40;

export class ProcessExitedError extends Error {
  constructor(name: string, code: number | null, signal: string | null, tail: string) {
    super(`${name} exited (${signal ?? `code ${code}`}) before it was ready; its last output:\n${tail}`);
    this.name = "ProcessExitedError";
  }
}

export class ReadinessTimeoutError extends Error {
  constructor(name: string, what: string, ms: number, tail: string) {
    super(`${name}: ${what} not ready after ${Math.round(ms / 1000)} s; its last output:\n${tail}`);
    this.name = "ReadinessTimeoutError";
  }
}

export type Managed = {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** The last lines it printed (stdout and stderr together). */
  tail(): string;
  /** Resolves with its output once `pattern` appears in it. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Resolves once `probe` gives true (probe errors count as not yet). */
  waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void>;
  exited: boolean;
};

export type StartOptions = { env: Record<string, string | undefined>; cwd: string; logDir: string };

/** Every process the devnet started, stopped together in reverse order of starting. */
export class ProcessGroup {
  readonly #members: Managed[] = [];
  readonly #streams: WriteStream[] = [];
  #stopping = false;
  /** Called when a member exits on its own (not during stop()). */
  onUnexpectedExit: ((member: Managed, code: number | null, signal: string | null) => void) | undefined;

  get members(): readonly Managed[] {
    return this.#members;
  }

  /** Starts `script` (a .ts or .js file) with the running Node and its arguments. */
  start(name: string, script: string, args: readonly string[], options: StartOptions): Managed {
    const logFile = join(options.logDir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: "a" });
    this.#streams.push(log);
    const child = spawn(process.execPath, [script, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: a Ctrl-C in the terminal reaches the devnet, which stops the children in order.
      detached: true,
    });
    const lines: string[] = [];
    let output = "";
    const listeners = new Set<() => void>();
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      const text = chunk.toString();
      output = (output + text).slice(-65_536);
      lines.push(...text.split("\n").filter((l) => l.trim() !== ""));
      if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
      for (const listener of listeners) listener();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    let exitInfo: { code: number | null; signal: string | null } | undefined;
    const member: Managed = {
      name,
      child,
      logFile,
      exited: false,
      tail: () => lines.join("\n"),
      waitForOutput: (pattern, timeoutMs) =>
        new Promise((resolve, reject) => {
          const check = () => {
            const match = pattern.exec(output);
            if (match !== null) return finish(() => resolve(match));
            if (exitInfo !== undefined) return finish(() => reject(new ProcessExitedError(name, exitInfo!.code, exitInfo!.signal, member.tail())));
          };
          const timer = setTimeout(() => finish(() => reject(new ReadinessTimeoutError(name, String(pattern), timeoutMs, member.tail()))), timeoutMs);
          const finish = (then: () => void) => {
            clearTimeout(timer);
            listeners.delete(check);
            then();
          };
          listeners.add(check);
          check();
        }),
      waitUntil: async (what, probe, timeoutMs) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          if (exitInfo !== undefined) throw new ProcessExitedError(name, exitInfo.code, exitInfo.signal, member.tail());
          if (await probe().catch(() => false)) return;
          if (Date.now() > deadline) throw new ReadinessTimeoutError(name, what, timeoutMs, member.tail());
          await new Promise((r) => setTimeout(r, 200));
        }
      },
    };
    child.once("exit", (code, signal) => {
      exitInfo = { code, signal };
      member.exited = true;
      for (const listener of listeners) listener();
      if (!this.#stopping) this.onUnexpectedExit?.(member, code, signal);
    });
    this.#members.push(member);
    return member;
  }

  /** Stops every member (newest first): SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 8_000): Promise<void> {
    this.#stopping = true;
    for (const member of [...this.#members].reverse()) await stopOne(member, graceMs);
    await Promise.all(this.#streams.map((s) => new Promise<void>((resolve) => s.end(resolve))));
  }
}

async function stopOne(member: Managed, graceMs: number): Promise<void> {
  const { child } = member;
  if (member.exited || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  signal(child.pid, "SIGTERM");
  const timer = setTimeout(() => signal(child.pid!, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Signals the child's process group (it was started detached), so its own children stop too. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/** Runs `script` to completion (output to its log file); rejects with its last output on failure. */
export async function runToCompletion(name: string, script: string, args: readonly string[], options: StartOptions): Promise<void> {
  const log = createWriteStream(join(options.logDir, `${name}.log`), { flags: "a" });
  const child = spawn(process.execPath, [script, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  let tail = "";
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString()).slice(-4_000);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const [code, sig] = await new Promise<[number | null, string | null]>((resolve) => child.once("exit", (c, s) => resolve([c, s])));
  await new Promise<void>((resolve) => log.end(resolve));
  if (code !== 0) throw new ProcessExitedError(name, code, sig, tail);
}
