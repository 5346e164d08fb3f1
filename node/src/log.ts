/** Logs go to stderr as one line each, so stdout stays free for command output. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold: LogLevel = (process.env.POD_LOG_LEVEL as LogLevel | undefined) ?? "info";
if (!(threshold in order)) threshold = "info";

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

export function log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
  if (order[level] < order[threshold]) return;
  const extra = fields === undefined ? "" : " " + Object.entries(fields).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
  process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} pod-node: ${message}${extra}\n`);
}
