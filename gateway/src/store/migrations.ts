/**
 * The schema, as an append-only list of versioned migrations shared by PGlite and PostgreSQL.
 * Never edit an applied migration: add a new version. Everything lives in the `gateway` schema
 * so the store can share a PostgreSQL database with other services.
 */
import type { SqlClient, SqlExecutor } from "./sqlClient.ts";
import { SchemaTooNewError } from "./types.ts";

export type Migration = { version: number; name: string; statements: string[] };

/** Amounts are uint256 on-chain: numeric(78,0) holds any of them exactly. */
const UINT256 = "numeric(78,0) NOT NULL CHECK ({col} >= 0)";
const amount = (col: string) => `${col} ${UINT256.replace("{col}", col)}`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "receipts, samples, grants, settlements",
    statements: [
      `CREATE TABLE gateway.receipts (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_id text NOT NULL UNIQUE,
        epoch bigint NOT NULL CHECK (epoch >= 0),
        model text NOT NULL,
        node_address text NOT NULL,
        node_account text NOT NULL,
        grant_id text NOT NULL,
        account text NOT NULL,
        asset text NOT NULL,
        ${amount("input_price_per_mtok")},
        ${amount("output_price_per_mtok")},
        prompt_tokens integer NOT NULL CHECK (prompt_tokens >= 0),
        completion_tokens integer NOT NULL CHECK (completion_tokens >= 0),
        ${amount("charged")},
        status text NOT NULL CHECK (status IN ('complete', 'partial')),
        received_at_ms bigint NOT NULL,
        first_token_ms integer,
        total_ms integer NOT NULL,
        signed_receipt jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      "CREATE INDEX receipts_epoch_seq ON gateway.receipts (epoch, seq)",
      "CREATE INDEX receipts_grant_epoch ON gateway.receipts (grant_id, epoch)",
      "CREATE INDEX receipts_account_asset ON gateway.receipts (account, asset)",
      `CREATE TABLE gateway.samples (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_id text NOT NULL UNIQUE REFERENCES gateway.receipts (request_id),
        epoch bigint NOT NULL,
        request jsonb NOT NULL,
        response_text text NOT NULL,
        prompt_token_ids jsonb NOT NULL,
        output_token_ids jsonb NOT NULL,
        logprobs jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      "CREATE INDEX samples_epoch_seq ON gateway.samples (epoch, seq)",
      `CREATE TABLE gateway.grants (
        grant_id text PRIMARY KEY,
        account text NOT NULL,
        gateway text NOT NULL,
        asset text NOT NULL,
        ${amount("cap")},
        ${amount("expiry")},
        ${amount("nonce")},
        signature text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE gateway.settlements (
        grant_id text PRIMARY KEY,
        ${amount("cumulative")},
        tx_hash text NOT NULL,
        settled_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
  {
    version: 2,
    name: "users' flags on responses",
    statements: [
      `CREATE TABLE gateway.flags (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_id text NOT NULL UNIQUE,
        account text NOT NULL,
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
];

/** An arbitrary constant: one migrating process at a time across gateway replicas. */
const MIGRATION_LOCK_KEY = 7_466_871_001;

/** Applies the migrations this database lacks, each in its own transaction. Returns the version. */
export async function migrate(client: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  assertOrdered(migrations);
  await client.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await tx.query("CREATE SCHEMA IF NOT EXISTS gateway");
    await tx.query(`CREATE TABLE IF NOT EXISTS gateway.schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  let current = 0;
  for (const migration of migrations) {
    current = await client.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
      const applied = await appliedVersion(tx);
      const newest = migrations.at(-1)?.version ?? 0;
      if (applied > newest) throw new SchemaTooNewError(`database schema is at version ${applied}; this gateway knows up to ${newest}`);
      if (applied >= migration.version) return applied;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query("INSERT INTO gateway.schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
      return migration.version;
    });
  }
  return current;
}

async function appliedVersion(tx: SqlExecutor): Promise<number> {
  const { rows } = await tx.query<{ version: number | null }>("SELECT max(version) AS version FROM gateway.schema_migrations");
  return rows[0]?.version ?? 0;
}

function assertOrdered(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i} has version ${m.version}; versions must be 1, 2, 3, ...`);
  });
}
