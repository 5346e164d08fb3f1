import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, maxUint256, type Address } from "viem";
import { paramName, POD } from "./helpers/fixture.ts";
import { nextAt } from "./helpers/unit.ts";
import {
  DEADLINE,
  deployBuybackWorld,
  expectedQuote,
  POOL_POD,
  TWAP_PERIOD,
  USD,
  type BuybackWorld,
} from "./helpers/buyback.ts";
import { approveRouter, createPair, reservesFor } from "./helpers/uniswap.ts";

const connection = await network.create();
const { viem } = connection;
const worldFixture = () => deployBuybackWorld(connection);
const setup = () => connection.networkHelpers.loadFixture(worldFixture);

async function observations(world: BuybackWorld, asset: Address) {
  const [previous, latest] = await world.buyback.read.observationsOf([asset]);
  return { previous, latest };
}

/** Buys back `amountIn` dUSD at `at`, asserting BoughtBack with the exact quote from `start`. */
async function buyBackAt(
  world: BuybackWorld,
  at: bigint,
  amountIn: bigint,
  start: { priceCumulative: bigint; timestamp: bigint },
) {
  const { buyback, usd, pair, deployer } = world;
  const { minOut, expectedOut } = await expectedQuote(pair, usd.address, amountIn, at, start);
  await nextAt(connection, at);
  await viem.assertions.emitWithArgs(
    buyback.write.buyBack([usd.address, amountIn]),
    buyback,
    "BoughtBack",
    [getAddress(usd.address), getAddress(deployer.account.address), amountIn, expectedOut, minOut],
  );
}

describe("Buyback TWAP", () => {
  it("is not ready until the first observation is a period old (TwapNotReady), for buyBack and quote", async () => {
    const world = await setup();
    const { buyback, usd } = world;
    await usd.write.mint([buyback.address, 100n * USD]);
    const { latest } = await observations(world, usd.address);
    const readyAt = latest.timestamp + TWAP_PERIOD;
    const args: [Address, bigint] = [getAddress(usd.address), readyAt];
    await viem.assertions.revertWithCustomErrorWithArgs(
      buyback.read.quote([usd.address, USD]),
      buyback,
      "TwapNotReady",
      args,
    );
    await nextAt(connection, readyAt - 1n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      buyback.write.buyBack([usd.address, maxUint256]),
      buyback,
      "TwapNotReady",
      args,
    );
    await buyBackAt(world, readyAt, 100n * USD, latest);
  });

  it("observe records a new observation once the newest is a period old, else TwapNotReady", async () => {
    const world = await setup();
    const { buyback, usd, pair, alice } = world;
    const { latest: first } = await observations(world, usd.address);
    const readyAt = first.timestamp + TWAP_PERIOD;
    await nextAt(connection, readyAt - 1n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      buyback.write.observe([usd.address], { account: alice.account }),
      buyback,
      "TwapNotReady",
      [getAddress(usd.address), readyAt],
    );
    const { cumulative } = await expectedQuote(pair, usd.address, USD, readyAt, first);
    await nextAt(connection, readyAt);
    await viem.assertions.emitWithArgs(
      buyback.write.observe([usd.address], { account: alice.account }),
      buyback,
      "PriceObserved",
      [getAddress(usd.address), cumulative, readyAt],
    );
    assert.deepEqual(await observations(world, usd.address), {
      previous: first,
      latest: { priceCumulative: cumulative, timestamp: readyAt },
    });
    await viem.assertions.revertWithCustomErrorWithArgs(
      buyback.write.observe([usd.address]),
      buyback,
      "TwapNotReady",
      [getAddress(usd.address), readyAt + TWAP_PERIOD],
    );
  });

  it("cannot be griefed: right after an observe or a dust buyback, the previous observation still serves", async () => {
    const world = await setup();
    const { buyback, usd, bob } = world;
    await usd.write.mint([buyback.address, 1000n * USD]);
    const { latest: first } = await observations(world, usd.address);
    const readyAt = first.timestamp + TWAP_PERIOD;
    await nextAt(connection, readyAt);
    await buyback.write.observe([usd.address], { account: bob.account });
    // The newest observation is brand new, so the TWAP runs from the one before it.
    await buyBackAt(world, readyAt + 1n, 1n, first);
    await buyBackAt(world, readyAt + 2n, 500n * USD, first);
    assert.equal(await usd.read.balanceOf([buyback.address]), 500n * USD - 1n);
  });

  it("is stale beyond four periods (TwapStale); observe, then a period later it serves again", async () => {
    const world = await setup();
    const { buyback, usd } = world;
    await usd.write.mint([buyback.address, 100n * USD]);
    const { latest: first } = await observations(world, usd.address);
    const staleAt = first.timestamp + 4n * TWAP_PERIOD + 1n;
    await nextAt(connection, staleAt);
    await viem.assertions.revertWithCustomErrorWithArgs(
      buyback.write.buyBack([usd.address, maxUint256]),
      buyback,
      "TwapStale",
      [getAddress(usd.address), first.timestamp],
    );
    await nextAt(connection, staleAt + 1n);
    await buyback.write.observe([usd.address]);
    const { latest } = await observations(world, usd.address);
    assert.equal(latest.timestamp, staleAt + 1n);
    // The previous observation is stale and the newest too young: wait for the newest.
    await viem.assertions.revertWithCustomErrorWithArgs(
      buyback.write.buyBack([usd.address, maxUint256]),
      buyback,
      "TwapNotReady",
      [getAddress(usd.address), latest.timestamp + TWAP_PERIOD],
    );
    await buyBackAt(world, latest.timestamp + TWAP_PERIOD, 100n * USD, latest);
  });

  it("serves an observation exactly four periods old", async () => {
    const world = await setup();
    const { buyback, usd } = world;
    await usd.write.mint([buyback.address, 100n * USD]);
    const { latest } = await observations(world, usd.address);
    await buyBackAt(world, latest.timestamp + 4n * TWAP_PERIOD, 100n * USD, latest);
  });

  it("refuses a previous observation younger than a lengthened period", async () => {
    const world = await setup();
    const { buyback, usd, protocolParams, owner } = world;
    await usd.write.mint([buyback.address, 100n * USD]);
    const { latest: first } = await observations(world, usd.address);
    await nextAt(connection, first.timestamp + TWAP_PERIOD);
    await buyback.write.observe([usd.address]);
    const { latest } = await observations(world, usd.address);
    await protocolParams.write.setParameter([paramName("buybackTwapPeriod"), 2n * TWAP_PERIOD], { account: owner });
    // `first` is now only a little over one (old) period old: less than the new period.
    await viem.assertions.revertWithCustomErrorWithArgs(
      buyback.write.buyBack([usd.address, maxUint256]),
      buyback,
      "TwapNotReady",
      [getAddress(usd.address), latest.timestamp + 2n * TWAP_PERIOD],
    );
    await buyBackAt(world, first.timestamp + 2n * TWAP_PERIOD, 100n * USD, first);
  });

  it("reads the price of either token order of the pair (asset as token0 and as token1)", async () => {
    const world = await setup();
    const { buyback, usd, pair, podToken, clients, uniswap, deployer, owner } = world;
    const podIsToken0 = BigInt(podToken.address) < BigInt(usd.address);
    // Deploy stablecoins until one sorts on the other side of POD (addresses are deterministic).
    let other = await viem.deployContract("DevStablecoin", [deployer.account.address]);
    while ((BigInt(podToken.address) < BigInt(other.address)) === podIsToken0) {
      other = await viem.deployContract("DevStablecoin", [deployer.account.address]);
    }
    const otherPair = await createPair(clients, uniswap, other.address, podToken.address);
    assert.notEqual(getAddress(await otherPair.read.token0()) === getAddress(podToken.address), podIsToken0);
    assert.equal(getAddress(await pair.read.token0()) === getAddress(podToken.address), podIsToken0);
    await other.write.mint([deployer.account.address, 50_000n * USD]);
    await other.write.mint([buyback.address, 100n * USD]);
    await approveRouter(clients, uniswap, deployer.account.address, [other.address]);
    // 4 POD per dollar in this pool, 2 in the dUSD pool.
    await uniswap.router.write.addLiquidity(
      [other.address, podToken.address, 50_000n * USD, POOL_POD, 0n, 0n, deployer.account.address, DEADLINE],
      { account: deployer.account, chain: deployer.chain },
    );
    await buyback.write.setRoute([other.address, otherPair.address], { account: owner });
    await usd.write.mint([buyback.address, 100n * USD]);

    const [, startOther] = await buyback.read.observationsOf([other.address]);
    const [, startUsd] = await buyback.read.observationsOf([usd.address]);
    const at = startOther.timestamp + TWAP_PERIOD;
    const quoteOther = await expectedQuote(otherPair, other.address, 100n * USD, at, startOther);
    const quoteUsd = await expectedQuote(pair, usd.address, 100n * USD, at, startUsd);
    // Both TWAPs are the spot prices (nothing traded): 98% of 400 and of 200 POD.
    assert.equal(quoteOther.minOut, 392n * POD);
    assert.equal(quoteUsd.minOut, 196n * POD);
    await connection.networkHelpers.time.increaseTo(at);
    const otherQuote = await buyback.read.quote([other.address, 100n * USD]);
    assert.deepEqual(otherQuote, [quoteOther.minOut, quoteOther.expectedOut]);
    assert.deepEqual(await buyback.read.quote([usd.address, 100n * USD]), [quoteUsd.minOut, quoteUsd.expectedOut]);
    const [reserveIn, reserveOut] = await reservesFor(otherPair, other.address);
    const sale = await expectedQuote(otherPair, other.address, 100n * USD, at + 1n, startOther);
    await nextAt(connection, at + 1n);
    await viem.assertions.emitWithArgs(
      buyback.write.buyBack([other.address, maxUint256]),
      buyback,
      "BoughtBack",
      [getAddress(other.address), getAddress(deployer.account.address), 100n * USD, sale.expectedOut, sale.minOut],
    );
    const reserves = await reservesFor(otherPair, other.address);
    assert.deepEqual(reserves, [reserveIn + 100n * USD, reserveOut - sale.expectedOut]);
  });

  it("gas: stablecoin buybacks (swap and split) and a POD buyback", async () => {
    const world = await setup();
    const { buyback, usd, podToken, alice, bob, publicClient } = world;
    await usd.write.mint([buyback.address, 900n * USD]);
    await podToken.write.transfer([buyback.address, 1000n * POD], { account: alice.account });
    const { latest } = await observations(world, usd.address);
    const gasOf = async (hash: `0x${string}`) => (await publicClient.waitForTransactionReceipt({ hash })).gasUsed;
    const sell = () => buyback.write.buyBack([usd.address, 300n * USD], { account: bob.account });
    await nextAt(connection, latest.timestamp + TWAP_PERIOD);
    // The first sale also writes the second observation slot and the pool's first POD balance.
    const first = await gasOf(await sell());
    const sameWindow = await gasOf(await sell());
    await nextAt(connection, latest.timestamp + 2n * TWAP_PERIOD + 1n);
    const rolling = await gasOf(await sell());
    const podGas = await gasOf(await buyback.write.buyBack([podToken.address, maxUint256], { account: bob.account }));
    console.log(
      `      gas: stablecoin buyBack first ${first}, steady ${rolling} (rolling the TWAP), ` +
        `${sameWindow} (not rolling); POD buyBack ${podGas}`,
    );
    assert.ok(first < 340_000n && rolling < 250_000n && sameWindow < 250_000n && podGas < 160_000n);
  });
});
