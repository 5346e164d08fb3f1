/**
 * One registration point for indexing functions: every contract event is first recorded, decoded,
 * in `contract_event`, then handed to the table-specific function, if any. Ponder allows one
 * function per event, so index.ts registers the record alone for events no module handles.
 */
import { ponder, type EventNames, type IndexingFunctionArgs } from "ponder:registry";
import schema from "ponder:schema";

export const handledEvents = new Set<string>();

type LogArgs = { event: { id: string; args?: unknown; log: { address: `0x${string}`; logIndex: number }; block: { number: bigint; timestamp: bigint }; transaction: { hash: `0x${string}` } } };
type DbContext = { context: { db: { insert: (table: typeof schema.contractEvent) => { values: (row: typeof schema.contractEvent.$inferInsert) => { onConflictDoNothing: () => Promise<unknown> } } } } };

/** Bigints as decimal strings, so the arguments are plain JSON. */
export function jsonArgs(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(jsonArgs);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonArgs(v)]));
  return value;
}

export async function recordEvent(name: string, { event, context }: LogArgs & DbContext): Promise<void> {
  const [contract = name, eventName = name] = name.split(":");
  await context.db.insert(schema.contractEvent).values({
    id: event.id,
    contract,
    name: eventName,
    address: event.log.address,
    args: jsonArgs(event.args ?? {}),
    logIndex: event.log.logIndex,
    block: event.block.number,
    timestamp: event.block.timestamp,
    transaction: event.transaction.hash,
  }).onConflictDoNothing();
}

/** Registers `fn` for `name`, after recording the event. */
export function on<N extends EventNames>(name: N, fn: (args: IndexingFunctionArgs<N>) => Promise<void>): void {
  handledEvents.add(name);
  ponder.on(name, async (args: IndexingFunctionArgs<N>) => {
    await recordEvent(name, args as unknown as LogArgs & DbContext);
    await fn(args);
  });
}

/** Where and when, for history rows. */
export function at(event: { block: { number: bigint; timestamp: bigint }; transaction: { hash: `0x${string}` } }) {
  return { block: event.block.number, timestamp: event.block.timestamp, transaction: event.transaction.hash };
}
