/**
 * A throwaway PostgreSQL cluster for tests: initdb + pg_ctl from Debian's server binaries in a
 * temp dir, listening on 127.0.0.1 only (socket in the temp dir), removed by stop(). As root,
 * initdb refuses to run, so the cluster runs as the `postgres` system user.
 * `postgresUnavailable()` says why a machine cannot run one (for a test's skip reason).
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.ts";

const run = promisify(execFile);

export function findPostgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => path.join(root, v, "bin")).find((bin) => existsSync(path.join(bin, "initdb")) && existsSync(path.join(bin, "pg_ctl")));
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (!existsSync("/etc/passwd")) return undefined;
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  return uid === undefined || gid === undefined ? undefined : { uid: Number(uid), gid: Number(gid) };
}

/** Why no cluster can be started here, or undefined when one can. */
export function postgresUnavailable(): string | undefined {
  if (findPostgresBin() === undefined) return "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb); install Debian's postgresql to run this suite";
  if (process.getuid?.() === 0 && postgresUser() === undefined) return "running as root and there is no 'postgres' user to run the cluster as";
  return undefined;
}

export type PostgresCluster = {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  databaseUrl: string;
  /** The cluster's temp dir (data, log and socket live under it). */
  dir: string;
  stop: () => Promise<void>;
};

export async function startPostgres(prefix = "pod-pg-"): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  if (bin === undefined) throw new Error(postgresUnavailable());
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const pgdata = path.join(dir, "data");
  const user = process.getuid?.() === 0 ? postgresUser() : undefined;
  if (user !== undefined) await chown(dir, user.uid, user.gid);
  const pgRun = (cmd: string, args: string[]) =>
    user !== undefined ? run("runuser", ["-u", "postgres", "--", path.join(bin, cmd), ...args], { cwd: dir }) : run(path.join(bin, cmd), args, { cwd: dir });
  const port = await freePort();
  await pgRun("initdb", ["-D", pgdata, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
  const options = `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=on -c synchronous_commit=on`;
  await pgRun("pg_ctl", ["-D", pgdata, "-o", options, "-l", path.join(dir, "log"), "-w", "-t", "60", "start"]);
  return {
    databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    async stop() {
      await pgRun("pg_ctl", ["-D", pgdata, "-m", "fast", "-w", "-t", "60", "stop"]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
