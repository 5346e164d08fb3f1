/**
 * The indexer as tests run it: the real CLI (Ponder underneath) as a child process on a free
 * port over a local chain, a tiny oracle that serves epoch reports, and helpers that wait for
 * the indexed head and query GraphQL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, eventually } from "../../test/helpers/localChain.ts";

const ROOT = join(import.meta.dirname, "../..");

export type IndexerOptions = {
  rpcUrl: string;
  deploymentFile: string;
  oracleUrls?: readonly string[];
  /** PGlite folder (a fresh temporary one when neither this nor databaseUrl is given). */
  dataDir?: string;
  databaseUrl?: string;
  schema?: string;
};

export type RunningIndexer = {
  url: string;
  dataDir: string | undefined;
  /** Everything the process printed so far. */
  output: () => string;
  stop: () => Promise<void>;
};

export async function startIndexer(options: IndexerOptions): Promise<RunningIndexer> {
  const port = await freePort();
  const dataDir = options.databaseUrl ? undefined : (options.dataDir ?? (await mkdtemp(join(tmpdir(), "pod-indexer-"))));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    POD_RPC_URL: options.rpcUrl,
    POD_DEPLOYMENT: options.deploymentFile,
    POD_ORACLE_URLS: (options.oracleUrls ?? []).join(","),
    POD_INDEXER_PORT: String(port),
    POD_INDEXER_HOST: "127.0.0.1",
    POD_INDEXER_SCHEMA: options.schema ?? "pod",
  };
  delete env.DATABASE_URL;
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  if (dataDir) env.POD_INDEXER_DATA_DIR = dataDir;
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, "indexer/src/cli.ts")], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await Promise.race([
      eventually("the indexer's HTTP server", async () => (await fetch(`${url}/status`, { signal: AbortSignal.timeout(2_000) })).ok || undefined, 90_000, 250),
      exited.then(() => Promise.reject(new Error(`the indexer exited (${child.exitCode})`))),
    ]);
  } catch (error) {
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${output.slice(-4_000)}`);
  }
  return { url, dataDir, output: () => output, stop };
}

/** The indexed head block number, from Ponder's /status. */
export async function indexedBlock(url: string): Promise<bigint | undefined> {
  const response = await fetch(`${url}/status`, { signal: AbortSignal.timeout(2_000) });
  const status = (await response.json()) as Record<string, { block?: { number?: number } }>;
  const block = Object.values(status)[0]?.block?.number;
  return block === undefined ? undefined : BigInt(block);
}

/** Waits until the indexer has indexed `block`. */
export async function waitForBlock(url: string, block: bigint, timeoutMs = 60_000): Promise<void> {
  await eventually(`the indexer to reach block ${block}`, async () => {
    const head = await indexedBlock(url);
    return head !== undefined && head >= block ? true : undefined;
  }, timeoutMs, 100);
}

export async function graphql<T>(url: string, query: string): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (body.errors || !body.data) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json() };
}

/** An oracle stand-in: serves whatever report text the test sets for each epoch; `down` answers 503. */
export type ReportServer = { url: string; reports: Map<bigint, string>; setDown: (down: boolean) => void; close: () => Promise<void> };

export async function startReportServer(): Promise<ReportServer> {
  const reports = new Map<bigint, string>();
  let down = false;
  const server: Server = createServer((request, response) => {
    const match = /^\/epochs\/([0-9]+)\/report$/.exec(request.url ?? "");
    const report = match ? reports.get(BigInt(match[1]!)) : undefined;
    if (down || report === undefined) {
      response.writeHead(down ? 503 : 404).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(report);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    reports,
    setDown: (value) => (down = value),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}
