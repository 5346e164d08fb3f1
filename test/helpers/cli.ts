/** Runs a CLI script as a child process for tests. */
import { spawn } from "node:child_process";

export type CliRun = { code: number | null; stdout: string; stderr: string };

/**
 * Runs `script` with `args` and `env` (and none of this process's POD_* or DATABASE_URL
 * variables, so the developer's own settings never leak into a test); killed after `timeoutMs`.
 */
export function runCli(script: string, args: readonly string[], env: Readonly<Record<string, string | undefined>>, timeoutMs = 20_000): Promise<CliRun> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("POD_") && k !== "DATABASE_URL"));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: { ...clean, ...env }, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
