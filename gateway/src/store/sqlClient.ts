/**
 * The thin I/O layer under the store: one interface over embedded PGlite and a PostgreSQL pool,
 * so both run the very same SQL. Values cross it as plain JS: the store casts int8 and numeric
 * columns to text in SQL, so neither driver's number parsing is ever involved.
 */
import { mkdir, open, readdir, readFile, unlink, writeFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import pg from "pg";
import { DataDirLockedError } from "./types.ts";

export type SqlParam = string | number | boolean | null;
export type SqlResult<T> = { rows: T[]; rowCount: number };

export interface SqlExecutor {
  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<SqlResult<T>>;
}

export interface SqlClient extends SqlExecutor {
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Resolves once every transaction committed before the call is on stable storage. */
  durable(): Promise<void>;
  close(): Promise<void>;
}

// ------------------------------------------------------------------------------- PGlite

/**
 * Embedded PGlite on NodeFS. Its Postgres runs with fsync=off and its WASM runtime makes
 * fsync/fdatasync no-ops; `relaxedDurability` only matters for browser file systems that sync
 * after each query (NodeFS writes straight through, whatever its value). So a commit reaches the
 * kernel (it survives the gateway crashing or being killed) but not the disk. With syncCommits,
 * durable() fsyncs the WAL segments written since the last sync, coalescing concurrent callers
 * into one fsync (group commit): a committed receipt then also survives power loss.
 */
export async function openPglite(dataDir: string, syncCommits: boolean): Promise<SqlClient> {
  await mkdir(dataDir, { recursive: true });
  const releaseLock = await lockDataDir(join(dataDir, "store.lock"));
  const pgdata = join(dataDir, "pglite");
  let db: PGlite;
  try {
    db = await PGlite.create({ dataDir: pgdata });
  } catch (error) {
    await releaseLock();
    throw error;
  }
  const walState: WalState = { lastSegment: null, current: null };
  const walSync = new GroupSync(() => syncWal(db, pgdata, walState));
  const executor = (q: PGlite | Transaction): SqlExecutor => ({
    async query<T>(sql: string, params: readonly SqlParam[] = []) {
      const result = await q.query<T>(sql, params as SqlParam[]);
      return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
    },
  });
  let closed = false;
  return {
    ...executor(db),
    transaction: (fn) => db.transaction((tx) => fn(executor(tx))),
    durable: () => (syncCommits ? walSync.request() : Promise.resolve()),
    async close() {
      if (closed) return;
      closed = true;
      await walSync.request().catch(() => undefined);
      await closeWalHandle(walState).catch(() => undefined);
      await db.close(); // a shutdown checkpoint writes every page
      if (syncCommits) await fsyncTree(pgdata);
      await releaseLock();
    },
  };
}

/** The newest WAL segment synced, kept open: a sync is then one fdatasync, no open or close. */
type WalState = { lastSegment: string | null; current: { segment: string; handle: FileHandle } | null };

async function syncWal(db: PGlite, pgdata: string, state: WalState): Promise<void> {
  const { rows } = await db.query<{ segment: string }>("SELECT pg_walfile_name(pg_current_wal_lsn()) AS segment");
  const current = rows[0]?.segment;
  if (current === undefined) throw new Error("PGlite reported no WAL segment");
  const walDir = join(pgdata, "pg_wal");
  // Segment names sort in write order (one timeline). A commit may straddle segments, so every
  // segment from the last synced one up to the current one is flushed, and the directory when
  // a new segment appeared. fdatasync as PostgreSQL's own default wal_sync_method: it also
  // flushes a size change, the metadata needed to read the data back.
  const from = state.lastSegment ?? current;
  if (from !== current) {
    const segments = (await readdir(walDir)).filter((name) => /^[0-9A-F]{24}$/.test(name) && name >= from && name < current);
    for (const segment of segments) await fsyncPath(join(walDir, segment));
    await closeWalHandle(state);
  }
  if (state.current === null) state.current = { segment: current, handle: await open(join(walDir, current), "r") };
  await state.current.handle.datasync();
  if (from !== current) await fsyncPath(walDir);
  state.lastSegment = current;
}

async function closeWalHandle(state: WalState): Promise<void> {
  const handle = state.current?.handle;
  state.current = null;
  await handle?.close();
}

/** Coalesces concurrent requests: each caller waits for one sync that started after its call. */
class GroupSync {
  #inFlight: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  readonly #run: () => Promise<void>;
  constructor(run: () => Promise<void>) {
    this.#run = run;
  }
  request(): Promise<void> {
    if (this.#queued) return this.#queued;
    if (!this.#inFlight) return this.#start();
    this.#queued = this.#inFlight.catch(() => undefined).then(() => {
      this.#queued = undefined;
      return this.#start();
    });
    return this.#queued;
  }
  #start(): Promise<void> {
    const running: Promise<void> = this.#run().finally(() => {
      if (this.#inFlight === running) this.#inFlight = undefined;
    });
    this.#inFlight = running;
    return running;
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(path);
    else if (entry.isFile()) await fsyncPath(path);
  }
  await fsyncPath(dir);
}

/**
 * One PGlite process per data directory: two would corrupt it. The lock file names its owner's
 * pid; a lock whose process is gone (a crashed gateway) is taken over.
 */
async function lockDataDir(lockPath: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: "wx" });
      return () => unlink(lockPath).catch(() => undefined);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number.parseInt(await readFile(lockPath, "utf8").catch(() => ""), 10);
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new DataDirLockedError(`the store in ${lockPath} is in use by process ${owner}`);
      }
      await unlink(lockPath).catch(() => undefined);
    }
  }
  throw new DataDirLockedError(`could not lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

// --------------------------------------------------------------------------- PostgreSQL

/** A pg Pool. Durability is the server's: a COMMIT returns once the WAL is flushed (synchronous_commit=on). */
export function openPostgres(connectionString: string, poolSize: number): SqlClient {
  const pool = new pg.Pool({ connectionString, max: poolSize });
  // An idle client losing its connection (server restart) must not crash the gateway: the pool
  // drops that client and the next query connects anew.
  pool.on("error", () => undefined);
  const executor = (q: pg.Pool | pg.PoolClient): SqlExecutor => ({
    async query<T>(sql: string, params: readonly SqlParam[] = []) {
      const result = await q.query(sql, params as SqlParam[]);
      return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
    },
  });
  let closed = false;
  return {
    ...executor(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const value = await fn(executor(client));
        await client.query("COMMIT");
        client.release();
        return value;
      } catch (error) {
        // A failed ROLLBACK means a broken connection: destroy it instead of pooling it.
        const rollback = await client.query("ROLLBACK").then(() => undefined, (e: unknown) => e);
        client.release(rollback instanceof Error ? rollback : undefined);
        throw error;
      }
    },
    durable: () => Promise.resolve(),
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
