/**
 * Triggering the buyback on real Uniswap V2: POD revenue is distributed at once; stablecoin
 * revenue waits for the TWAP (reported, not failed), is observed when the TWAP went stale, and
 * is bought back once an observation is a period old. An asset without a route is a skip.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { getAddress, parseEventLogs, type Address } from "viem";
import { now, POD } from "../../test/helpers/fixture.ts";
import { deployBuybackWorld, TWAP_PERIOD, USD, type BuybackWorld } from "../../test/helpers/buyback.ts";
import { mineAt } from "../../test/helpers/unit.ts";
import { runBuyback } from "../src/chain/buyback.ts";

describe("buyback trigger", () => {
  let connection: NetworkConnection;
  let world: BuybackWorld;
  let buyback: Address, pod: Address, usd: Address, unrouted: Address;

  before(async () => {
    connection = await network.create();
    world = await deployBuybackWorld(connection);
    [buyback, pod, usd, unrouted] = [world.buyback.address, world.podToken.address, world.usd.address, world.stablecoin.address].map((x) => getAddress(x)) as [Address, Address, Address, Address];
  });
  after(async () => {
    await connection.close();
  });

  const run = () => runBuyback(world.deployer, world.publicClient, buyback, [pod, usd, unrouted]);

  test("POD revenue is bought back at once; assets without a balance or a route are skipped", async () => {
    await world.podToken.write.transfer([buyback, 1_000n * POD], { account: world.alice.account });
    await world.stablecoin.write.mint([buyback, 10n * USD]);
    const [podOutcome, usdOutcome, unroutedOutcome] = await run();
    assert.ok(podOutcome?.outcome === "bought", JSON.stringify(podOutcome, (_, v) => (typeof v === "bigint" ? String(v) : v)));
    assert.deepEqual([podOutcome.amountIn, podOutcome.podOut], [1_000n * POD, 1_000n * POD]);
    const receipt = await world.publicClient.getTransactionReceipt({ hash: podOutcome.txHash });
    assert.equal(parseEventLogs({ abi: world.buyback.abi, logs: receipt.logs, eventName: "BuybackDistributed" }).length, 1);
    assert.equal(await world.podToken.read.balanceOf([buyback]), 0n);
    assert.deepEqual(usdOutcome, { asset: usd, outcome: "skipped", reason: "no balance" });
    assert.deepEqual(unroutedOutcome, { asset: unrouted, outcome: "skipped", reason: { name: "NoRoute", args: [unrouted] } });
  });

  test("stablecoin revenue waits for the TWAP, is observed when stale, then bought back", async () => {
    await world.usd.write.mint([buyback, 100n * USD]);
    // The route's first observation is younger than a period: nothing to observe yet either.
    const [, young] = await run();
    assert.equal(young?.outcome, "waitingForTwap");
    assert.ok(young?.outcome === "waitingForTwap" && young.reason.name === "TwapNotReady" && young.txHash === undefined);

    // Four periods later the observation is stale: the run records a fresh one.
    await mineAt(connection, (await now(connection)) + 5n * TWAP_PERIOD);
    const [, stale] = await run();
    assert.ok(stale?.outcome === "waitingForTwap" && stale.reason.name === "TwapStale" && stale.txHash !== undefined, String(stale?.outcome));
    const observed = await world.publicClient.getTransactionReceipt({ hash: stale.txHash });
    assert.equal(parseEventLogs({ abi: world.buyback.abi, logs: observed.logs, eventName: "PriceObserved" }).length, 1);

    await mineAt(connection, (await now(connection)) + TWAP_PERIOD);
    const [, bought] = await run();
    assert.ok(bought?.outcome === "bought", String(bought?.outcome));
    assert.equal(bought.amountIn, 100n * USD);
    assert.ok(bought.podOut > 190n * POD && bought.podOut < 200n * POD, `${bought.podOut}`); // one POD is worth half a dollar
    assert.equal(await world.usd.read.balanceOf([buyback]), 0n);
  });
});
