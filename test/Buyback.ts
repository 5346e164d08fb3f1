import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, maxUint256, zeroAddress, type Address } from "viem";
import { deployCore, now, POD } from "./helpers/fixture.ts";
import { mineAt, nextAt, stake, vaultRate } from "./helpers/unit.ts";
import {
  deployBuybackWorld,
  expectedQuote,
  logsOf,
  MAX_SLIPPAGE_PPM,
  POOL_POD,
  POOL_USD,
  PPM,
  splitOf,
  SPLIT,
  TWAP_PERIOD,
  USD,
  type BuybackWorld,
} from "./helpers/buyback.ts";
import {
  createPair,
  cumulativePriceAt,
  PAIR_INIT_CODE_HASH,
  publishedPairInitCodeHash,
  reservesFor,
} from "./helpers/uniswap.ts";

const connection = await network.create();
const { viem } = connection;
const worldFixture = () => deployBuybackWorld(connection);
const coreFixture = () => deployCore(connection);
const setup = () => connection.networkHelpers.loadFixture(worldFixture);

/** The route's observations as plain values. */
async function observations(world: BuybackWorld, asset: `0x${string}`) {
  const [previous, latest] = await world.buyback.read.observationsOf([asset]);
  return { previous, latest };
}

/** Sends `amount` POD of alice to the buyback, as POD revenue. */
async function podRevenue(world: Pick<BuybackWorld, "podToken" | "buyback" | "alice">, amount: bigint) {
  await world.podToken.write.transfer([world.buyback.address, amount], { account: world.alice.account });
}

describe("Buyback", () => {
  describe("routes", () => {
    it("runs against the published pair bytecode, whose init-code hash Router02 has hard-coded", async () => {
      const { uniswap, pair, usd, podToken } = await setup();
      assert.equal(publishedPairInitCodeHash(), PAIR_INIT_CODE_HASH);
      assert.equal(await uniswap.factory.read.getPair([usd.address, podToken.address]), pair.address);
      const [reserveUsd, reservePod] = await reservesFor(pair, usd.address);
      assert.deepEqual([reserveUsd, reservePod], [POOL_USD, POOL_POD]);
    });

    it("the timelock sets a route and records its first observation (RouteSet, PriceObserved)", async () => {
      const world = await setup();
      const { buyback, usd, pair, owner } = world;
      assert.equal(await buyback.read.routeOf([usd.address]), pair.address);
      assert.equal(getAddress(await buyback.read.owner()), getAddress(world.timelock.address));
      assert.equal(owner, getAddress(world.timelock.address));

      const at = (await now(connection)) + 100n;
      const cumulative = await cumulativePriceAt(pair, usd.address, at);
      assert.ok(cumulative > 0n, "the pair has accrued a price since its liquidity");
      await nextAt(connection, at);
      const tx = buyback.write.setRoute([usd.address, pair.address], { account: owner });
      await viem.assertions.emitWithArgs(tx, buyback, "RouteSet", [getAddress(usd.address), getAddress(pair.address)]);
      const [observed] = await logsOf(world.publicClient, await tx, buyback, "PriceObserved");
      assert.deepEqual(observed?.args, { asset: getAddress(usd.address), priceCumulative: cumulative, timestamp: at });
      // Setting a route again starts its observations afresh.
      const { previous, latest } = await observations(world, usd.address);
      assert.deepEqual(previous, { priceCumulative: 0n, timestamp: 0n });
      assert.deepEqual(latest, { priceCumulative: cumulative, timestamp: at });
    });

    it("only the owner sets routes (OwnableUnauthorizedAccount)", async () => {
      const { buyback, usd, pair, alice, deployer } = await setup();
      for (const caller of [alice, deployer]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          buyback.write.setRoute([usd.address, pair.address], { account: caller.account }),
          buyback,
          "OwnableUnauthorizedAccount",
          [getAddress(caller.account.address)],
        );
      }
    });

    it("refuses a pair that does not trade the asset against POD (PairMismatch)", async () => {
      const { buyback, usd, pair, uniswap, clients, owner, podToken } = await setup();
      const usdWeth = await createPair(clients, uniswap, usd.address, uniswap.weth);
      await viem.assertions.revertWithCustomErrorWithArgs(
        buyback.write.setRoute([usd.address, usdWeth.address], { account: owner }),
        buyback,
        "PairMismatch",
        [getAddress(usdWeth.address), getAddress(usd.address)],
      );
      for (const asset of [uniswap.weth, podToken.address]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          buyback.write.setRoute([asset, pair.address], { account: owner }),
          buyback,
          "PairMismatch",
          [getAddress(pair.address), getAddress(asset)],
        );
      }
    });

    it("refuses a pair without liquidity (NoLiquidity)", async () => {
      const { buyback, uniswap, clients, owner, podToken } = await setup();
      const empty = await createPair(clients, uniswap, uniswap.weth, podToken.address);
      await viem.assertions.revertWithCustomErrorWithArgs(
        buyback.write.setRoute([uniswap.weth, empty.address], { account: owner }),
        buyback,
        "NoLiquidity",
        [getAddress(empty.address)],
      );
    });

    it("the zero pair clears a route: buyBack, observe and quote then fail with NoRoute", async () => {
      const world = await setup();
      const { buyback, usd, owner, alice } = world;
      await usd.write.mint([buyback.address, 100n * USD]);
      await viem.assertions.emitWithArgs(
        buyback.write.setRoute([usd.address, zeroAddress], { account: owner }),
        buyback,
        "RouteSet",
        [getAddress(usd.address), zeroAddress],
      );
      assert.equal(await buyback.read.routeOf([usd.address]), zeroAddress);
      assert.deepEqual((await observations(world, usd.address)).latest, { priceCumulative: 0n, timestamp: 0n });
      const noRoute: [Address] = [getAddress(usd.address)];
      await viem.assertions.revertWithCustomErrorWithArgs(
        buyback.write.buyBack([usd.address, maxUint256], { account: alice.account }),
        buyback,
        "NoRoute",
        noRoute,
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        buyback.write.observe([usd.address]),
        buyback,
        "NoRoute",
        noRoute,
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        buyback.read.quote([usd.address, USD]),
        buyback,
        "NoRoute",
        noRoute,
      );
    });
  });

  describe("POD revenue", () => {
    it("is split exactly: burned from supply, to the vault (raising sPOD's rate), to the rewards pool", async () => {
      const world = await setup();
      const { buyback, podToken, stakedPod, rewardsDistributor, bob } = world;
      const amount = 1000n * POD;
      await podRevenue(world, amount);
      const { burned, toStakers, toRewardsPool } = splitOf(amount);
      assert.deepEqual([burned, toStakers, toRewardsPool], [500n * POD, 300n * POD, 200n * POD]);
      const supply = await podToken.read.totalSupply();
      const vaultAssets = await stakedPod.read.totalAssets();
      const pool = await podToken.read.balanceOf([rewardsDistributor.address]);
      const rate = await vaultRate(world);

      assert.deepEqual(await buyback.read.quote([podToken.address, amount]), [amount, amount]);
      const tx = buyback.write.buyBack([podToken.address, maxUint256], { account: bob.account });
      const b = getAddress(bob.account.address);
      await viem.assertions.emitWithArgs(
        tx,
        buyback,
        "BoughtBack",
        [getAddress(podToken.address), b, amount, amount, amount],
      );
      await viem.assertions.emitWithArgs(tx, buyback, "BuybackDistributed", [burned, toStakers, toRewardsPool]);
      assert.equal(await podToken.read.totalSupply(), supply - burned);
      assert.equal(await stakedPod.read.totalAssets(), vaultAssets + toStakers);
      assert.equal(await podToken.read.balanceOf([rewardsDistributor.address]), pool + toRewardsPool);
      assert.equal(await podToken.read.balanceOf([buyback.address]), 0n);
      const raised = await vaultRate(world);
      assert.ok(raised > rate, "the staking share raises the sPOD rate");
      const [checkpoint] = await logsOf(world.publicClient, await tx, stakedPod, "ExchangeRateCheckpointed");
      assert.equal(checkpoint?.args.rateRay, raised, "checkpointRate records the raised rate for votes and bonds");
    });

    it("distributes at most maxAmountIn and keeps the rest", async () => {
      const world = await setup();
      const { buyback, podToken, carol } = world;
      await podRevenue(world, 1000n * POD);
      const { burned, toStakers, toRewardsPool } = splitOf(300n * POD);
      const tx = buyback.write.buyBack([podToken.address, 300n * POD], { account: carol.account });
      await viem.assertions.emitWithArgs(tx, buyback, "BuybackDistributed", [burned, toStakers, toRewardsPool]);
      assert.equal(await podToken.read.balanceOf([buyback.address]), 700n * POD);
    });

    it("sends rounding dust to the burn", async () => {
      const world = await setup();
      const { buyback, podToken } = world;
      await podRevenue(world, 7n);
      // 7 * 30% = 2.1 -> 2 to stakers, 7 * 20% = 1.4 -> 1 to the pool, the other 4 wei burned.
      await viem.assertions.emitWithArgs(buyback.write.buyBack([podToken.address, 7n]), buyback, "BuybackDistributed", [
        4n,
        2n,
        1n,
      ]);
    });

    it("burns the stakers' share while the vault has no stakers", async () => {
      const core = await connection.networkHelpers.loadFixture(coreFixture);
      const { buyback, podToken, stakedPod } = core;
      assert.equal(await stakedPod.read.totalSupply(), 0n);
      await podRevenue(core, 1000n * POD);
      const supply = await podToken.read.totalSupply();
      const toRewardsPool = (1000n * POD * SPLIT.rewards) / PPM;
      await viem.assertions.emitWithArgs(
        buyback.write.buyBack([podToken.address, maxUint256]),
        buyback,
        "BuybackDistributed",
        [1000n * POD - toRewardsPool, 0n, toRewardsPool],
      );
      assert.equal(await stakedPod.read.totalAssets(), 0n);
      assert.equal(await podToken.read.totalSupply(), supply - (1000n * POD - toRewardsPool));
      // A first staker afterwards gets exactly what they deposit.
      assert.equal(await stake(core, core.alice, 10n * POD), 10n * 10n ** 24n);
    });

    it("has nothing to buy with no POD or a zero maximum (NothingToBuy)", async () => {
      const world = await setup();
      const { buyback, podToken } = world;
      const args: [Address] = [getAddress(podToken.address)];
      await viem.assertions.revertWithCustomErrorWithArgs(
        buyback.write.buyBack([podToken.address, maxUint256]),
        buyback,
        "NothingToBuy",
        args,
      );
      await podRevenue(world, POD);
      await viem.assertions.revertWithCustomErrorWithArgs(
        buyback.write.buyBack([podToken.address, 0n]),
        buyback,
        "NothingToBuy",
        args,
      );
    });
  });

  describe("stablecoin revenue", () => {
    it("is sold through the pair for exactly the V2 formula's output, then split; anyone may trigger it", async () => {
      const world = await setup();
      const { buyback, usd, pair, podToken, uniswap, dave, stakedPod, rewardsDistributor } = world;
      const amountIn = 1000n * USD;
      await usd.write.mint([buyback.address, amountIn]);
      const { latest: start } = await observations(world, usd.address);
      const at = start.timestamp + TWAP_PERIOD;
      const { minOut, expectedOut, cumulative } = await expectedQuote(pair, usd.address, amountIn, at, start);
      const [reserveUsd, reservePod] = await reservesFor(pair, usd.address);
      assert.equal(expectedOut, await uniswap.router.read.getAmountOut([amountIn, reserveUsd, reservePod]));
      // The price never moved: the TWAP is the spot price, 2 POD per dollar, less 2%.
      assert.equal(minOut, (2000n * POD * (PPM - MAX_SLIPPAGE_PPM)) / PPM);
      await mineAt(connection, at);
      assert.deepEqual(await buyback.read.quote([usd.address, amountIn]), [minOut, expectedOut]);

      const supply = await podToken.read.totalSupply();
      const vaultAssets = await stakedPod.read.totalAssets();
      const d = getAddress(dave.account.address);
      await nextAt(connection, at + 1n);
      const quote = await expectedQuote(pair, usd.address, amountIn, at + 1n, start);
      const tx = buyback.write.buyBack([usd.address, maxUint256], { account: dave.account });
      await viem.assertions.emitWithArgs(
        tx,
        buyback,
        "BoughtBack",
        [getAddress(usd.address), d, amountIn, expectedOut, quote.minOut],
      );
      const { burned, toStakers, toRewardsPool } = splitOf(expectedOut);
      await viem.assertions.emitWithArgs(tx, buyback, "BuybackDistributed", [burned, toStakers, toRewardsPool]);
      const [swap] = await logsOf(world.publicClient, await tx, { address: pair.address, abi: pair.abi }, "Swap");
      assert.equal(swap?.args.to, getAddress(buyback.address));
      // The observation a period old is rolled forward to the buyback's block.
      const [observed] = await logsOf(world.publicClient, await tx, buyback, "PriceObserved");
      assert.deepEqual(observed?.args, {
        asset: getAddress(usd.address),
        priceCumulative: quote.cumulative,
        timestamp: at + 1n,
      });
      assert.ok(cumulative < quote.cumulative);

      assert.equal(await usd.read.balanceOf([buyback.address]), 0n);
      assert.equal(await podToken.read.balanceOf([buyback.address]), 0n);
      assert.deepEqual(await reservesFor(pair, usd.address), [reserveUsd + amountIn, reservePod - expectedOut]);
      assert.equal(await podToken.read.totalSupply(), supply - burned);
      assert.equal(await stakedPod.read.totalAssets(), vaultAssets + toStakers);
      assert.equal(await podToken.read.balanceOf([rewardsDistributor.address]), toRewardsPool);
    });

    it("sells at most maxAmountIn", async () => {
      const world = await setup();
      const { buyback, usd, pair, carol } = world;
      await usd.write.mint([buyback.address, 1000n * USD]);
      const { latest: start } = await observations(world, usd.address);
      const at = start.timestamp + TWAP_PERIOD;
      const { minOut, expectedOut } = await expectedQuote(pair, usd.address, 250n * USD, at, start);
      await nextAt(connection, at);
      await viem.assertions.emitWithArgs(
        buyback.write.buyBack([usd.address, 250n * USD], { account: carol.account }),
        buyback,
        "BoughtBack",
        [getAddress(usd.address), getAddress(carol.account.address), 250n * USD, expectedOut, minOut],
      );
      assert.equal(await usd.read.balanceOf([buyback.address]), 750n * USD);
    });

    it("has nothing to buy with no balance or a zero maximum (NothingToBuy)", async () => {
      const { buyback, usd } = await setup();
      const args: [Address] = [getAddress(usd.address)];
      await viem.assertions.revertWithCustomErrorWithArgs(
        buyback.write.buyBack([usd.address, maxUint256]),
        buyback,
        "NothingToBuy",
        args,
      );
      await usd.write.mint([buyback.address, USD]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        buyback.write.buyBack([usd.address, 0n]),
        buyback,
        "NothingToBuy",
        args,
      );
    });

    it("refuses a sale larger than the pool absorbs within the slippage bound (SlippageExceeded)", async () => {
      const world = await setup();
      const { buyback, usd, pair } = world;
      // 5% of the pool's dollars moves the price by about 10%: far beyond 2% below the TWAP.
      const amountIn = POOL_USD / 20n;
      await usd.write.mint([buyback.address, amountIn]);
      const { latest: start } = await observations(world, usd.address);
      const at = start.timestamp + TWAP_PERIOD;
      const { minOut, expectedOut } = await expectedQuote(pair, usd.address, amountIn, at, start);
      assert.ok(expectedOut < minOut);
      await nextAt(connection, at);
      await viem.assertions.revertWithCustomErrorWithArgs(
        buyback.write.buyBack([usd.address, maxUint256]),
        buyback,
        "SlippageExceeded",
        [getAddress(usd.address), amountIn, expectedOut, minOut],
      );
      // Smaller slices pass: a caller chooses maxAmountIn.
      await viem.assertions.emit(buyback.write.buyBack([usd.address, amountIn / 10n]), buyback, "BoughtBack");
    });
  });
});
