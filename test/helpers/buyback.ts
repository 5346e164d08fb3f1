import type { NetworkConnection } from "hardhat/types/network";
import {
  getAddress,
  parseEther,
  parseEventLogs,
  parseUnits,
  type Abi,
  type Address,
  type ContractEventName,
  type Hash,
  type PublicClient,
} from "viem";
import { DAY, deployCore, POD } from "./fixture.ts";
import { actAsTimelock, stake } from "./unit.ts";
import {
  approveRouter,
  createPair,
  cumulativePriceAt,
  deployUniswapV2,
  reservesFor,
  v2AmountOut,
  type UniswapV2Pair,
} from "./uniswap.ts";

/** One dollar of the 6-decimal stablecoin. */
export const USD = 10n ** 6n;
/** The default TWAP period (buybackTwapPeriod): 30 minutes. */
export const TWAP_PERIOD = 1800n;
/** The default maximum slippage below the TWAP (buybackMaxSlippagePpm). */
export const MAX_SLIPPAGE_PPM = 20_000n;
/** The default split (buybackBurnPpm / StakingPpm / RewardsPpm). */
export const SPLIT = { burn: 500_000n, staking: 300_000n, rewards: 200_000n };
export const PPM = 1_000_000n;
/** Pool depth: 100,000 dUSD against 200,000 POD, so one POD is worth half a dollar. */
export const POOL_USD = 100_000n * USD;
export const POOL_POD = 200_000n * POD;
/** A far-future router deadline. */
export const DEADLINE = 2n ** 40n;
export { DAY };

/**
 * The whole protocol plus real Uniswap V2 with a dUSD/POD pair holding liquidity added through
 * Router02, the pair set as dUSD's route by the timelock, and carol staking 100,000 POD so the
 * vault has stakers. Dave trades through the router (approved for POD and dUSD, 1M dUSD).
 */
export async function deployBuybackWorld(connection: NetworkConnection) {
  const core = await deployCore(connection);
  const { viem } = connection;
  const { deployer, dave, carol, podToken, buyback } = core;
  const clients = { publicClient: core.publicClient, deployer };
  const uniswap = await deployUniswapV2(clients);
  const usd = await viem.deployContract("DevStablecoin", [deployer.account.address]);
  const pair = await createPair(clients, uniswap, usd.address, podToken.address);

  await usd.write.mint([deployer.account.address, POOL_USD]);
  await usd.write.mint([dave.account.address, 1_000_000n * USD]);
  await approveRouter(clients, uniswap, deployer.account.address, [usd.address, podToken.address]);
  await approveRouter(clients, uniswap, dave.account.address, [usd.address, podToken.address]);
  await uniswap.router.write.addLiquidity(
    [usd.address, podToken.address, POOL_USD, POOL_POD, POOL_USD, POOL_POD, deployer.account.address, DEADLINE],
    { account: deployer.account, chain: deployer.chain },
  );

  // The timelock owns the buyback and the parameters; the tests act as it.
  const owner = await actAsTimelock(connection, core);
  await buyback.write.setRoute([usd.address, pair.address], { account: owner });
  await stake(core, carol, 100_000n * POD);
  return { ...core, clients, uniswap, usd, pair, owner };
}

export type BuybackWorld = Awaited<ReturnType<typeof deployBuybackWorld>>;

/** Sells `amountIn` of `tokenIn` for `tokenOut` through Router02 as `trader`; returns the amount out. */
export async function swapThroughRouter(
  world: BuybackWorld,
  trader: Address,
  tokenIn: Address,
  tokenOut: Address,
  amountIn: bigint,
): Promise<bigint> {
  const [, out] = await world.uniswap.router.read.getAmountsOut([amountIn, [tokenIn, tokenOut]]);
  await world.uniswap.router.write.swapExactTokensForTokens([amountIn, 0n, [tokenIn, tokenOut], trader, DEADLINE], {
    account: trader,
    chain: world.deployer.chain,
  });
  if (out === undefined) throw new Error("getAmountsOut returned no output");
  return out;
}

/**
 * What Buyback.quote computes for selling `amountIn` of `asset` at `timestamp`, from the TWAP
 * start observation `start`: the minimum out and the pair's expected out.
 */
export async function expectedQuote(
  pair: UniswapV2Pair,
  asset: Address,
  amountIn: bigint,
  timestamp: bigint,
  start: { priceCumulative: bigint; timestamp: bigint },
  maxSlippagePpm = MAX_SLIPPAGE_PPM,
) {
  const cumulative = await cumulativePriceAt(pair, asset, timestamp);
  const averagePrice = ((cumulative - start.priceCumulative) % 2n ** 256n) / (timestamp - start.timestamp);
  const twapOut = (amountIn * averagePrice) >> 112n;
  const minOut = (twapOut * (PPM - maxSlippagePpm)) / PPM;
  const [reserveIn, reserveOut] = await reservesFor(pair, asset);
  return { minOut, expectedOut: v2AmountOut(amountIn, reserveIn, reserveOut), cumulative };
}

/** The buyback's exact split of `amount` POD when the vault has stakers (dust burned). */
export function splitOf(amount: bigint) {
  const toStakers = (amount * SPLIT.staking) / PPM;
  const toRewardsPool = (amount * SPLIT.rewards) / PPM;
  return { burned: amount - toStakers - toRewardsPool, toStakers, toRewardsPool };
}

/** The decoded `eventName` logs that `contract` emitted in transaction `hash`, typed by its ABI. */
export async function logsOf<const abi extends Abi, eventName extends ContractEventName<abi>>(
  publicClient: PublicClient,
  hash: Hash,
  contract: { address: Address; abi: abi },
  eventName: eventName,
) {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  const own = receipt.logs.filter((log) => getAddress(log.address) === getAddress(contract.address));
  return parseEventLogs({ abi: contract.abi, logs: own, eventName });
}
