/**
 * The same ReceiptStore suite on PostgreSQL: a throwaway cluster (initdb + pg_ctl from Debian's
 * server binaries) in a temp dir on 127.0.0.1, removed afterwards. Skipped, saying why, on a
 * machine without those binaries.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { openStore } from "../src/store/index.ts";
import { storeSuite } from "./store.suite.ts";

const run = promisify(execFile);
const binDir = findPostgresBin();
const skipReason = whyNotRunnable();

if (skipReason !== undefined) {
  describe("ReceiptStore (PostgreSQL)", () => {
    it("runs against a throwaway PostgreSQL cluster", { skip: skipReason }, () => undefined);
  });
} else {
  storeSuite("PostgreSQL", startCluster);
}

function findPostgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => path.join(root, v, "bin")).find((bin) => existsSync(path.join(bin, "initdb")) && existsSync(path.join(bin, "pg_ctl")));
}

/** initdb refuses to run as root: as root, the cluster runs as the `postgres` system user. */
function whyNotRunnable(): string | undefined {
  if (binDir === undefined) return "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb); install Debian's postgresql to run this suite";
  if (process.getuid?.() === 0 && postgresUser() === undefined) return "running as root and there is no 'postgres' user to run the cluster as";
  return undefined;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (!existsSync("/etc/passwd")) return undefined;
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  return uid === undefined || gid === undefined ? undefined : { uid: Number(uid), gid: Number(gid) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function startCluster() {
  const bin = binDir as string;
  const dir = await mkdtemp(path.join(os.tmpdir(), "pod-store-pg-"));
  const pgdata = path.join(dir, "data");
  const user = process.getuid?.() === 0 ? postgresUser() : undefined;
  if (user !== undefined) await chown(dir, user.uid, user.gid);
  const pgRun = (cmd: string, args: string[]) =>
    user !== undefined ? run("runuser", ["-u", "postgres", "--", path.join(bin, cmd), ...args], { cwd: dir }) : run(path.join(bin, cmd), args, { cwd: dir });
  const port = await freePort();
  await pgRun("initdb", ["-D", pgdata, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
  // Listen on 127.0.0.1 only; the socket lives in the temp dir, not /var/run.
  const options = `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=on -c synchronous_commit=on`;
  await pgRun("pg_ctl", ["-D", pgdata, "-o", options, "-l", path.join(dir, "log"), "-w", "-t", "60", "start"]);
  const databaseUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    open: () => openStore({ databaseUrl, dataDir: dir, poolSize: 8 }),
    async cleanup() {
      await pgRun("pg_ctl", ["-D", pgdata, "-m", "fast", "-w", "-t", "60", "stop"]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
