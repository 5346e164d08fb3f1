/**
 * The epoch schedule from ProtocolParams and the closing block (the last block before the close)
 * on an in-process chain, with blocks mined at chosen timestamps around the close.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { deployCore, type Core } from "../../test/helpers/fixture.ts";
import { mineAt } from "../../test/helpers/unit.ts";
import { currentEpoch, epochClosesAt, findClosingBlock, readEpochSchedule, type EpochSchedule } from "../src/chain/schedule.ts";

describe("epoch schedule and closing block", () => {
  let connection: NetworkConnection;
  let core: Core;
  let schedule: EpochSchedule;

  before(async () => {
    connection = await network.create();
    core = await deployCore(connection);
    schedule = await readEpochSchedule(core.publicClient, core.protocolParams.address);
  });
  after(async () => {
    await connection.close();
  });

  test("reads ProtocolParams.epochSchedule and computes closes and the running epoch", async () => {
    const [length, genesis] = await core.protocolParams.read.epochSchedule();
    assert.deepEqual(schedule, { length, genesis });
    assert.equal(length, 86_400n);
    assert.equal(epochClosesAt(schedule, 0), genesis + length);
    assert.equal(epochClosesAt(schedule, 9), genesis + 10n * length);
    assert.equal(currentEpoch(schedule, genesis - 1n), -1);
    assert.equal(currentEpoch(schedule, genesis), 0);
    assert.equal(currentEpoch(schedule, genesis + length - 1n), 0);
    assert.equal(currentEpoch(schedule, genesis + length), 1);
    assert.throws(() => epochClosesAt(schedule, -1), RangeError);
  });

  test("null until a block at or after the close exists, then exactly the last block before it", async () => {
    const closesAt = epochClosesAt(schedule, 0);
    assert.equal(await findClosingBlock(core.publicClient, closesAt), null);
    await mineAt(connection, closesAt - 100n);
    await mineAt(connection, closesAt - 5n);
    await mineAt(connection, closesAt - 1n);
    // The epoch is over by the clock of the last block but not on-chain: a block may still land before it.
    assert.equal(await findClosingBlock(core.publicClient, closesAt), null);
    const lastBefore = await core.publicClient.getBlock();
    await mineAt(connection, closesAt);
    await mineAt(connection, closesAt + 7n);
    const closing = await findClosingBlock(core.publicClient, closesAt);
    assert.deepEqual(closing, { number: lastBefore.number, hash: lastBefore.hash, timestamp: closesAt - 1n });
  });

  test("a gap across the close: the block before the gap, found among many blocks", async () => {
    const closesAt = epochClosesAt(schedule, 1);
    for (let i = 40n; i >= 1n; i--) await mineAt(connection, closesAt - 1000n * i);
    const lastBefore = await core.publicClient.getBlock();
    for (let i = 1n; i <= 25n; i++) await mineAt(connection, closesAt + 60n * i);
    const closing = await findClosingBlock(core.publicClient, closesAt);
    assert.equal(closing?.number, lastBefore.number);
    assert.equal(closing?.timestamp, closesAt - 1000n);
    const next = await core.publicClient.getBlock({ blockNumber: lastBefore.number + 1n });
    assert.ok(next.timestamp >= closesAt);
    // Same answer for every caller, every time.
    assert.deepEqual(await findClosingBlock(core.publicClient, closesAt), closing);
  });
});
