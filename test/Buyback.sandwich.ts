import assert from "node:assert/strict";
import { network } from "hardhat";
import { decodeErrorResult, getAddress, isHex, maxUint256, type Hash } from "viem";
import { nextAt } from "./helpers/unit.ts";
import {
  deployBuybackWorld,
  expectedQuote,
  DEADLINE,
  swapThroughRouter,
  TWAP_PERIOD,
  USD,
  type BuybackWorld,
} from "./helpers/buyback.ts";
import { reservesFor, v2AmountOut } from "./helpers/uniswap.ts";

const connection = await network.create();
const { viem, provider } = connection;
const worldFixture = () => deployBuybackWorld(connection);
const setup = () => connection.networkHelpers.loadFixture(worldFixture);

/** The buyback's revenue in these tests: 1,000 dUSD, well within the 2% bound on a quiet pool. */
const REVENUE = 1000n * USD;
/** The attacker's front-run: 5,000 dUSD of POD bought ahead of the buyback. */
const FRONT_RUN = 5000n * USD;

async function funded(world: BuybackWorld) {
  await world.usd.write.mint([world.buyback.address, REVENUE]);
  const [, start] = await world.buyback.read.observationsOf([world.usd.address]);
  return { start, at: start.timestamp + TWAP_PERIOD };
}

/** The revert data of a mined, failed transaction, read back from its trace. */
async function revertDataOf(hash: Hash) {
  const trace: unknown = await provider.request({ method: "debug_traceTransaction", params: [hash] });
  if (typeof trace !== "object" || trace === null || !("returnValue" in trace) || !("failed" in trace)) {
    throw new Error("unexpected trace shape");
  }
  const { returnValue, failed } = trace;
  assert.equal(failed, true);
  const data = typeof returnValue === "string" && !returnValue.startsWith("0x") ? `0x${returnValue}` : returnValue;
  if (typeof data !== "string" || !isHex(data)) throw new Error("trace has no return data");
  return data;
}

describe("Buyback against a sandwich", () => {
  it("a front-run in the same block makes the buyback revert (SlippageExceeded) and costs it nothing", async () => {
    const world = await setup();
    const { buyback, usd, pair, podToken, dave, alice, publicClient } = world;
    const { start, at } = await funded(world);
    const attacker = dave.account.address;
    const [reserveUsd, reservePod] = await reservesFor(pair, usd.address);
    const podBought = v2AmountOut(FRONT_RUN, reserveUsd, reservePod);
    // The TWAP ignores trades in its own block: its minimum is the quiet pool's.
    const { minOut } = await expectedQuote(pair, usd.address, REVENUE, at, start);
    const squeezed = v2AmountOut(REVENUE, reserveUsd + FRONT_RUN, reservePod - podBought);
    assert.ok(squeezed < minOut);
    const attackerUsd = await usd.read.balanceOf([attacker]);
    const supply = await podToken.read.totalSupply();

    await provider.request({ method: "evm_setAutomine", params: [false] });
    try {
      await nextAt(connection, at);
      const { router } = world.uniswap;
      const path = [usd.address, podToken.address] as const;
      const gas = 400_000n;
      const chain = dave.chain;
      const frontRun = await router.write.swapExactTokensForTokens([FRONT_RUN, 0n, [...path], attacker, DEADLINE], {
        account: attacker,
        chain,
        gas,
      });
      const victim = await buyback.write.buyBack([usd.address, maxUint256], { account: alice.account, gas });
      const backRun = await router.write.swapExactTokensForTokens(
        [podBought, 0n, [podToken.address, usd.address], attacker, DEADLINE],
        { account: attacker, chain, gas },
      );
      await connection.networkHelpers.mine();
      const receipts = await Promise.all(
        [frontRun, victim, backRun].map((hash) => publicClient.getTransactionReceipt({ hash })),
      );
      assert.deepEqual(
        receipts.map((r) => [r.blockNumber, r.transactionIndex, r.status]),
        [
          [receipts[0]?.blockNumber, 0, "success"],
          [receipts[0]?.blockNumber, 1, "reverted"],
          [receipts[0]?.blockNumber, 2, "success"],
        ],
      );
      const error = decodeErrorResult({ abi: buyback.abi, data: await revertDataOf(victim) });
      assert.equal(error.errorName, "SlippageExceeded");
      assert.deepEqual(error.args, [getAddress(usd.address), REVENUE, squeezed, minOut]);
    } finally {
      await provider.request({ method: "evm_setAutomine", params: [true] });
    }
    // Nothing left the buyback; the attacker paid the pool's fee twice for nothing.
    assert.equal(await usd.read.balanceOf([buyback.address]), REVENUE);
    assert.equal(await podToken.read.totalSupply(), supply);
    assert.ok((await usd.read.balanceOf([attacker])) < attackerUsd);
  });

  it("a front-run a block earlier is refused too; once the price is back, the buyback goes through", async () => {
    const world = await setup();
    const { buyback, usd, pair, podToken, dave, alice } = world;
    const { start, at } = await funded(world);
    const attacker = dave.account.address;
    const attackerUsd = await usd.read.balanceOf([attacker]);
    await nextAt(connection, at - 1n);
    const podBought = await swapThroughRouter(world, attacker, usd.address, podToken.address, FRONT_RUN);

    // One second of the squeezed price barely moves a 30-minute average.
    const squeezed = await expectedQuote(pair, usd.address, REVENUE, at, start);
    assert.ok(squeezed.expectedOut < squeezed.minOut);
    await nextAt(connection, at);
    await viem.assertions.revertWithCustomErrorWithArgs(
      buyback.write.buyBack([usd.address, maxUint256], { account: alice.account }),
      buyback,
      "SlippageExceeded",
      [getAddress(usd.address), REVENUE, squeezed.expectedOut, squeezed.minOut],
    );
    assert.equal(await usd.read.balanceOf([buyback.address]), REVENUE);

    // The attacker unwinds (or arbitrage restores the price): the same buyback now passes.
    await nextAt(connection, at + 1n);
    await swapThroughRouter(world, attacker, podToken.address, usd.address, podBought);
    assert.ok((await usd.read.balanceOf([attacker])) < attackerUsd, "the attack lost the attacker money");
    const fair = await expectedQuote(pair, usd.address, REVENUE, at + 2n, start);
    assert.ok(fair.expectedOut >= fair.minOut);
    await nextAt(connection, at + 2n);
    await viem.assertions.emitWithArgs(
      buyback.write.buyBack([usd.address, maxUint256], { account: alice.account }),
      buyback,
      "BoughtBack",
      [getAddress(usd.address), getAddress(alice.account.address), REVENUE, fair.expectedOut, fair.minOut],
    );
    assert.equal(await usd.read.balanceOf([buyback.address]), 0n);
  });

  it("waits out a lasting price move until the TWAP catches up, then sells at the new price", async () => {
    const world = await setup();
    const { buyback, usd, pair, podToken, dave, bob } = world;
    const { start, at } = await funded(world);
    // POD's price rises for good: a large buyer takes 10% of the pool's POD.
    await nextAt(connection, at - 5n);
    await swapThroughRouter(world, dave.account.address, usd.address, podToken.address, 11_200n * USD);
    const stale = await expectedQuote(pair, usd.address, REVENUE, at, start);
    assert.ok(stale.expectedOut < stale.minOut);
    await nextAt(connection, at);
    await viem.assertions.revertWithCustomErrorWithArgs(
      buyback.write.buyBack([usd.address, maxUint256], { account: bob.account }),
      buyback,
      "SlippageExceeded",
      [getAddress(usd.address), REVENUE, stale.expectedOut, stale.minOut],
    );

    // A keeper observes; a period later the average is entirely the new price.
    await nextAt(connection, at + 1n);
    await buyback.write.observe([usd.address], { account: bob.account });
    const [, fresh] = await buyback.read.observationsOf([usd.address]);
    const settled = await expectedQuote(pair, usd.address, REVENUE, fresh.timestamp + TWAP_PERIOD, fresh);
    const [reserveUsd, reservePod] = await reservesFor(pair, usd.address);
    // The TWAP is the (new) spot price to within the UQ112x112 rounding of one wei per dollar.
    assert.equal(settled.minOut, (((REVENUE * reservePod) / reserveUsd) * 98n) / 100n);
    await nextAt(connection, fresh.timestamp + TWAP_PERIOD);
    await viem.assertions.emitWithArgs(
      buyback.write.buyBack([usd.address, maxUint256], { account: bob.account }),
      buyback,
      "BoughtBack",
      [getAddress(usd.address), getAddress(bob.account.address), REVENUE, settled.expectedOut, settled.minOut],
    );
  });
});
