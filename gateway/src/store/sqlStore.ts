/**
 * The ReceiptStore over SQL: the same statements for PGlite and PostgreSQL. int8 and numeric
 * columns are read as text and parsed here, so amounts stay exact bigints whatever the driver.
 */
import type { Address, Hex } from "viem";
import { grantIdOf } from "../../../sdk/src/apiKey.ts";
import { parseSignedReceipt } from "../../../sdk/src/receipt.ts";
import { Batcher } from "./batcher.ts";
import type { SqlClient, SqlExecutor, SqlParam } from "./sqlClient.ts";
import { InvalidRecordError, type CompletionReceipt, type FlaggedSample, type GrantUsage, type Page, type PageQuery, type ReceiptStore, type SignedGrant, type StoredReceipt, type StoredSample, type ValidatorSample } from "./types.ts";
import { address, bytes32, checkEpoch, checkPage, checkReceipt, checkRequestId, checkSample, checkSignedGrant, checkUint256 } from "./validate.ts";

// Aliases shadow column names in ORDER BY: order by the table-qualified column (r.seq), never
// by the text alias.
const RECEIPT_COLUMNS = `seq::text AS seq, request_id, epoch::text AS epoch, model, node_address, node_account, grant_id,
  account, asset, input_price_per_mtok::text AS input_price, output_price_per_mtok::text AS output_price,
  prompt_tokens, completion_tokens, charged::text AS charged, status, received_at_ms::text AS received_at_ms,
  first_token_ms, total_ms, signed_receipt, created_at`;

type ReceiptRow = {
  seq: string; request_id: string; epoch: string; model: string; node_address: string; node_account: string;
  grant_id: string; account: string; asset: string; input_price: string; output_price: string;
  prompt_tokens: number; completion_tokens: number; charged: string; status: string; received_at_ms: string;
  first_token_ms: number | null; total_ms: number; signed_receipt: unknown; created_at: Date;
};

const SAMPLE_COLUMNS = `seq::text AS seq, request_id, epoch::text AS epoch, request, response_text, prompt_token_ids,
  output_token_ids, logprobs, created_at`;

const RECEIPT_INSERT_COLUMNS = `request_id, epoch, model, node_address, node_account, grant_id, account, asset,
  input_price_per_mtok, output_price_per_mtok, prompt_tokens, completion_tokens, charged, status,
  received_at_ms, first_token_ms, total_ms, signed_receipt`;
const RECEIPT_INSERT_COLUMN_COUNT = 18;

function receiptParams(r: CompletionReceipt): SqlParam[] {
  return [r.requestId, r.epoch, r.model, r.nodeAddress, r.nodeAccount, r.grantId, r.account, r.asset,
    r.inputPricePerMTok.toString(), r.outputPricePerMTok.toString(), r.promptTokens, r.completionTokens,
    r.charged.toString(), r.status, r.timings.receivedAt, r.timings.firstTokenMs, r.timings.totalMs,
    r.signedReceipt === null ? null : JSON.stringify(r.signedReceipt)];
}

const SAMPLE_INSERT_COLUMNS = "request_id, epoch, request, response_text, prompt_token_ids, output_token_ids, logprobs";
const SAMPLE_INSERT_COLUMN_COUNT = 7;

function sampleParams(s: ValidatorSample, epoch: number): SqlParam[] {
  return [s.requestId, epoch, JSON.stringify(s.request), s.responseText, JSON.stringify(s.promptTokenIds), JSON.stringify(s.outputTokenIds), encodeLogprobs(s.logprobs)];
}

/** "($1, $2::jsonb), ($3, $4::jsonb)" for a multi-row VALUES; casts by 1-based column. */
function placeholders(rows: number, columns: number, casts: Record<number, string> = {}): string {
  return Array.from({ length: rows }, (_, row) =>
    `(${Array.from({ length: columns }, (_, col) => `$${row * columns + col + 1}${casts[col + 1] ?? ""}`).join(", ")})`).join(", ");
}

/** One statement text per batch size, built once (a busy gateway sends the same few sizes). */
function memoBySize(build: (rows: number) => string): (rows: number) => string {
  const texts = new Map<number, string>();
  return (rows) => {
    let text = texts.get(rows);
    if (text === undefined) texts.set(rows, (text = build(rows)));
    return text;
  };
}

/** Rows per multi-row INSERT: large enough to amortize a statement, far below the 65,535 parameters. */
const MAX_INSERT_BATCH = 256;

const receiptInsert = memoBySize(
  (rows) => `INSERT INTO gateway.receipts (${RECEIPT_INSERT_COLUMNS}) VALUES ${placeholders(rows, RECEIPT_INSERT_COLUMN_COUNT, { 18: "::jsonb" })}
         ON CONFLICT (request_id) DO NOTHING RETURNING request_id`,
);
const sampleInsert = memoBySize(
  (rows) => `INSERT INTO gateway.samples (${SAMPLE_INSERT_COLUMNS}) VALUES ${placeholders(rows, SAMPLE_INSERT_COLUMN_COUNT, { 3: "::jsonb", 5: "::jsonb", 6: "::jsonb", 7: "::jsonb" })}`,
);

type InsertItem = { receipt: CompletionReceipt; sample: ValidatorSample | undefined };

type SampleRow = {
  seq: string; request_id: string; epoch: string; request: unknown; response_text: string;
  prompt_token_ids: unknown; output_token_ids: unknown; logprobs: unknown; created_at: Date;
};

export class SqlReceiptStore implements ReceiptStore {
  readonly kind: "pglite" | "postgres";
  readonly #db: SqlClient;
  readonly #inserts: Batcher<InsertItem, { inserted: boolean }>;

  constructor(db: SqlClient, kind: "pglite" | "postgres") {
    this.#db = db;
    this.kind = kind;
    this.#inserts = new Batcher((batch) => this.#insertBatch(batch), MAX_INSERT_BATCH);
  }

  insert(receipt: CompletionReceipt, sample?: ValidatorSample): Promise<{ inserted: boolean }> {
    try {
      const r = checkReceipt(receipt);
      const s = sample === undefined ? undefined : checkSample(sample, r.requestId);
      return this.#inserts.submit({ receipt: r, sample: s });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * One batch of inserts: a multi-row INSERT ... ON CONFLICT DO NOTHING (one transaction with the
   * samples of the rows that were new), then one durability sync for all of them. Within a batch
   * a request id repeated by concurrent retries is inserted once: its first entry wins.
   */
  async #insertBatch(batch: InsertItem[]): Promise<{ inserted: boolean }[]> {
    const write = async (tx: SqlExecutor): Promise<Set<string>> => {
      const { rows } = await tx.query<{ request_id: string }>(receiptInsert(batch.length), batch.flatMap(({ receipt }) => receiptParams(receipt)));
      const fresh = new Set(rows.map((row) => row.request_id));
      const firstOfId = new Map<string, InsertItem>();
      for (const item of batch) if (!firstOfId.has(item.receipt.requestId)) firstOfId.set(item.receipt.requestId, item);
      const firstSamples = [...firstOfId.values()].filter((item) => item.sample !== undefined && fresh.has(item.receipt.requestId));
      if (firstSamples.length > 0) {
        await tx.query(sampleInsert(firstSamples.length), firstSamples.flatMap((item) => sampleParams(item.sample as ValidatorSample, item.receipt.epoch)));
      }
      return fresh;
    };
    const anySample = batch.some((item) => item.sample !== undefined);
    const fresh = anySample ? await this.#db.transaction(write) : await write(this.#db);
    await this.#db.durable();
    return batch.map(({ receipt }) => ({ inserted: fresh.delete(receipt.requestId) }));
  }

  async receipt(requestId: string): Promise<StoredReceipt | null> {
    checkRequestId(requestId);
    const { rows } = await this.#db.query<ReceiptRow>(`SELECT ${RECEIPT_COLUMNS} FROM gateway.receipts WHERE request_id = $1`, [requestId]);
    return rows[0] === undefined ? null : receiptFromRow(rows[0]);
  }

  async receiptsOfEpoch(epoch: number, page: PageQuery): Promise<Page<StoredReceipt>> {
    checkEpoch(epoch);
    const { after, limit } = checkPage(page);
    const { rows } = await this.#db.query<ReceiptRow>(
      `SELECT ${RECEIPT_COLUMNS} FROM gateway.receipts r WHERE r.epoch = $1 AND r.seq > $2 ORDER BY r.seq LIMIT $3`,
      [epoch, after, limit + 1],
    );
    return toPage(rows.map(receiptFromRow), limit);
  }

  async sampleOf(requestId: string): Promise<StoredSample | null> {
    checkRequestId(requestId);
    const { rows } = await this.#db.query<SampleRow>(`SELECT ${SAMPLE_COLUMNS} FROM gateway.samples WHERE request_id = $1`, [requestId]);
    return rows[0] === undefined ? null : sampleFromRow(rows[0]);
  }

  async samplesSince(page: PageQuery & { epoch?: number }): Promise<Page<StoredSample>> {
    const { after, limit } = checkPage(page);
    const params: SqlParam[] = [after, limit + 1];
    let where = "s.seq > $1";
    if (page.epoch !== undefined) {
      checkEpoch(page.epoch);
      params.push(page.epoch);
      where += " AND s.epoch = $3";
    }
    const { rows } = await this.#db.query<SampleRow>(`SELECT ${SAMPLE_COLUMNS} FROM gateway.samples s WHERE ${where} ORDER BY s.seq LIMIT $2`, params);
    return toPage(rows.map(sampleFromRow), limit);
  }

  async keepSample(sample: ValidatorSample, epoch: number): Promise<{ inserted: boolean }> {
    checkEpoch(epoch);
    const s = checkSample(sample, sample.requestId);
    const { rows } = await this.#db.query<{ request_id: string }>(
      `${sampleInsert(1)} ON CONFLICT (request_id) DO NOTHING RETURNING request_id`,
      sampleParams(s, epoch),
    );
    await this.#db.durable();
    return { inserted: rows.length > 0 };
  }

  async flag(requestId: string, account: Address, reason: string): Promise<{ created: boolean }> {
    checkRequestId(requestId);
    if (typeof reason !== "string" || reason.length > MAX_FLAG_REASON || reason.includes("\u0000")) throw new InvalidRecordError(`a flag's reason is at most ${MAX_FLAG_REASON} characters, without U+0000`);
    const { rows } = await this.#db.query<{ seq: string }>("INSERT INTO gateway.flags (request_id, account, reason) VALUES ($1, $2, $3) ON CONFLICT (request_id) DO NOTHING RETURNING seq::text AS seq", [requestId, address(account, "account"), reason]);
    await this.#db.durable();
    return { created: rows.length > 0 };
  }

  async flagsSince(page: PageQuery): Promise<Page<FlaggedSample>> {
    const { after, limit } = checkPage(page);
    const { rows } = await this.#db.query<FlagRow & Partial<Omit<SampleRow, "seq" | "request_id" | "created_at">> & { sample_seq: string | null; sample_created_at: Date | null }>(
      `SELECT f.seq::text AS seq, f.request_id, f.account, f.reason, f.created_at, s.seq::text AS sample_seq, s.epoch::text AS epoch, s.request,
         s.response_text, s.prompt_token_ids, s.output_token_ids, s.logprobs, s.created_at AS sample_created_at
       FROM gateway.flags f LEFT JOIN gateway.samples s ON s.request_id = f.request_id WHERE f.seq > $1 ORDER BY f.seq LIMIT $2`,
      [after, limit + 1],
    );
    const items = rows.map((row) => ({
      seq: BigInt(row.seq),
      flag: { seq: BigInt(row.seq), requestId: row.request_id, account: row.account as Address, reason: row.reason, createdAt: row.created_at },
      sample: row.sample_seq === null ? null : sampleFromRow({ ...(row as unknown as SampleRow), seq: row.sample_seq, created_at: row.sample_created_at as Date }),
    }));
    return mapPage(toPage(items, limit), ({ flag, sample }) => ({ flag, sample }));
  }

  async rememberGrant(signed: SignedGrant): Promise<void> {
    const { grant, signature } = checkSignedGrant(signed);
    await this.#db.query(
      `INSERT INTO gateway.grants (grant_id, account, gateway, asset, cap, expiry, nonce, signature)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (grant_id) DO NOTHING`,
      [grantIdOf(grant).toLowerCase(), grant.account, grant.gateway, grant.asset, grant.cap.toString(), grant.expiry.toString(), grant.nonce.toString(), signature],
    );
    await this.#db.durable();
  }

  async usageByGrant(epochUpTo: number): Promise<GrantUsage[]> {
    checkEpoch(epochUpTo);
    const { rows } = await this.#db.query<{
      grant_id: string; account: string; asset: string; cumulative: string; settled: string; tx_hash: string | null;
      gateway: string | null; cap: string | null; expiry: string | null; nonce: string | null; signature: string | null;
    }>(
      `SELECT r.grant_id, r.account, r.asset, sum(r.charged)::text AS cumulative,
         coalesce(s.cumulative, 0)::text AS settled, s.tx_hash,
         g.gateway, g.cap::text AS cap, g.expiry::text AS expiry, g.nonce::text AS nonce, g.signature
       FROM gateway.receipts r
       LEFT JOIN gateway.settlements s ON s.grant_id = r.grant_id
       LEFT JOIN gateway.grants g ON g.grant_id = r.grant_id
       WHERE r.epoch <= $1
       GROUP BY r.grant_id, r.account, r.asset, s.grant_id, g.grant_id
       ORDER BY r.asset, r.grant_id`,
      [epochUpTo],
    );
    return rows.map((row) => ({
      grantId: row.grant_id as Hex,
      account: row.account as Address,
      asset: row.asset as Address,
      cumulative: BigInt(row.cumulative),
      settled: BigInt(row.settled),
      lastSettlementTx: row.tx_hash as Hex | null,
      signedGrant:
        row.gateway === null || row.cap === null || row.expiry === null || row.nonce === null || row.signature === null
          ? null
          : {
              grant: { account: row.account as Address, gateway: row.gateway as Address, asset: row.asset as Address, cap: BigInt(row.cap), expiry: BigInt(row.expiry), nonce: BigInt(row.nonce) },
              signature: row.signature as Hex,
            },
    }));
  }

  async markSettled(grantId: Hex, cumulative: bigint, txHash: Hex): Promise<boolean> {
    const id = bytes32(grantId, "grantId");
    checkUint256(cumulative, "cumulative");
    const tx = bytes32(txHash, "txHash");
    const { rows } = await this.#db.query(
      `INSERT INTO gateway.settlements (grant_id, cumulative, tx_hash) VALUES ($1, $2, $3)
       ON CONFLICT (grant_id) DO UPDATE SET cumulative = excluded.cumulative, tx_hash = excluded.tx_hash, settled_at = now()
       WHERE gateway.settlements.cumulative < excluded.cumulative
       RETURNING grant_id`,
      [id, cumulative.toString(), tx],
    );
    await this.#db.durable();
    return rows.length === 1;
  }

  async spendOfGrant(grantId: Hex): Promise<{ charged: bigint; settled: bigint }> {
    const id = bytes32(grantId, "grantId");
    const { rows } = await this.#db.query<{ charged: string; settled: string }>(
      `SELECT coalesce((SELECT sum(charged) FROM gateway.receipts WHERE grant_id = $1), 0)::text AS charged,
              coalesce((SELECT cumulative FROM gateway.settlements WHERE grant_id = $1), 0)::text AS settled`,
      [id],
    );
    const row = rows[0];
    return { charged: BigInt(row?.charged ?? 0), settled: BigInt(row?.settled ?? 0) };
  }

  async unsettledOfAccount(account: Address, asset: Address): Promise<bigint> {
    const { rows } = await this.#db.query<{ unsettled: string }>(
      `SELECT coalesce(sum(greatest(t.charged - coalesce(s.cumulative, 0), 0)), 0)::text AS unsettled
       FROM (SELECT grant_id, sum(charged) AS charged FROM gateway.receipts
             WHERE account = $1 AND asset = $2 GROUP BY grant_id) t
       LEFT JOIN gateway.settlements s ON s.grant_id = t.grant_id`,
      [address(account, "account"), address(asset, "asset")],
    );
    return BigInt(rows[0]?.unsettled ?? 0);
  }

  async close(): Promise<void> {
    await this.#inserts.idle();
    await this.#db.close();
  }
}

const MAX_FLAG_REASON = 2_000;

type FlagRow = { seq: string; request_id: string; account: string; reason: string; created_at: Date };

function mapPage<T, U>(page: Page<T>, f: (item: T) => U): Page<U> {
  return { items: page.items.map(f), next: page.next };
}

function toPage<T extends { seq: bigint }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last !== undefined ? last.seq.toString() : null };
}

function receiptFromRow(row: ReceiptRow): StoredReceipt {
  return {
    seq: BigInt(row.seq),
    requestId: row.request_id,
    epoch: Number(row.epoch),
    model: row.model,
    nodeAddress: row.node_address as Address,
    nodeAccount: row.node_account as Address,
    grantId: row.grant_id as Hex,
    account: row.account as Address,
    asset: row.asset as Address,
    inputPricePerMTok: BigInt(row.input_price),
    outputPricePerMTok: BigInt(row.output_price),
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    charged: BigInt(row.charged),
    status: row.status === "partial" ? "partial" : "complete",
    timings: { receivedAt: Number(row.received_at_ms), firstTokenMs: row.first_token_ms, totalMs: row.total_ms },
    signedReceipt: row.signed_receipt === null ? null : parseSignedReceipt(row.signed_receipt),
    createdAt: row.created_at,
  };
}

function sampleFromRow(row: SampleRow): StoredSample {
  return {
    seq: BigInt(row.seq),
    epoch: Number(row.epoch),
    requestId: row.request_id,
    request: row.request as ValidatorSample["request"],
    responseText: row.response_text,
    promptTokenIds: row.prompt_token_ids as number[],
    outputTokenIds: row.output_token_ids as number[],
    logprobs: decodeLogprobs(row.logprobs),
    createdAt: row.created_at,
  };
}

/** JSON has no infinities, and a token's log-probability may be -Infinity: those travel as strings. */
function encodeLogprobs(logprobs: ValidatorSample["logprobs"]): string {
  return JSON.stringify(logprobs, (_key, value: unknown) => (typeof value === "number" && !Number.isFinite(value) ? String(value) : value));
}

function decodeLogprobs(raw: unknown): ValidatorSample["logprobs"] {
  const revive = (v: unknown): number => (typeof v === "number" ? v : Number(v));
  const { chosen, top } = raw as { chosen: unknown[]; top: { tokenId: number; logprob: unknown }[][] };
  return { chosen: chosen.map(revive), top: top.map((alts) => alts.map((a) => ({ tokenId: a.tokenId, logprob: revive(a.logprob) }))) };
}
