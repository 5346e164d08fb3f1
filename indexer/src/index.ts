/**
 * Registers the indexing functions: the table-specific modules first, then, for every other
 * event of every indexed contract, the record in `contract_event` alone.
 */
import { ponder, type EventNames } from "ponder:registry";
import { indexedEventNames } from "../lib/abis.ts";
import { handledEvents, recordEvent } from "./handlers/record.ts";
import "./handlers/tokens.ts";
import "./handlers/bonds.ts";
import "./handlers/registry.ts";
import "./handlers/credit.ts";
import "./handlers/rewards.ts";
import "./handlers/governance.ts";

for (const name of indexedEventNames()) {
  if (handledEvents.has(name)) continue;
  handledEvents.add(name);
  ponder.on(name as EventNames, async (args) => recordEvent(name, args as unknown as Parameters<typeof recordEvent>[1]));
}
