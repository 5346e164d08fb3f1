/**
 * What a request costs. Prices are governed on-chain per model (ProtocolParams.modelParams:
 * POD wei per million prompt and completion tokens); a grant in a stablecoin pays the same
 * price converted at a configured POD price. Every result rounds up, once, at the end, so the
 * network never undercharges and a request's cost never exceeds its reservation: the cost grows
 * with the token counts, so the cost at max_tokens bounds every shorter completion.
 */
import { getAddress, isAddressEqual, type Address, type Hex } from "viem";
import { KeyRejected } from "./errors.ts";

/** One model's governed prices, in POD wei per million tokens. */
export type ModelPrice = { inputPricePerMTok: bigint; outputPricePerMTok: bigint };

export type TokenUsage = { promptTokens: number; completionTokens: number };

/**
 * How grants in each asset pay. POD grants pay the on-chain prices as they are. A stablecoin
 * grant pays them converted at `unitsPerPod`: the stablecoin's base units that one POD (1e18 wei)
 * costs, e.g. `parseUnits("0.25", 6)` for a 6-decimal coin at $0.25. Governance sets model
 * prices in POD; this rate is the gateway operator's, until the buyback's TWAP is read instead.
 */
export type PricingConfig = {
  pod: Address;
  stablecoins: readonly { asset: Address; unitsPerPod: bigint }[];
};

const POD_WEI = 10n ** 18n;
const TOKENS_PER_PRICE = 1_000_000n;

/** Validates a PricingConfig once (addresses checksummed, rates positive, no asset twice). */
export function parsePricingConfig(config: PricingConfig): PricingConfig {
  const seen = new Set<string>([getAddress(config.pod).toLowerCase()]);
  const stablecoins = config.stablecoins.map(({ asset, unitsPerPod }) => {
    const checked = getAddress(asset);
    if (seen.has(checked.toLowerCase())) throw new Error(`pricing: asset ${checked} is configured twice`);
    seen.add(checked.toLowerCase());
    if (unitsPerPod <= 0n) throw new Error(`pricing: the POD price in ${checked} must be positive`);
    return { asset: checked, unitsPerPod };
  });
  return { pod: getAddress(config.pod), stablecoins };
}

/** The cost in POD wei, rounded up. */
export function costInPod(price: ModelPrice, usage: TokenUsage): bigint {
  return ceilDiv(podWeiTimesMillion(price, usage), TOKENS_PER_PRICE);
}

/**
 * The cost in the grant's asset (base units), rounded up once. Throws KeyRejected
 * ("unpriced_asset") for an asset with no configured rate: check with isPricedAsset first.
 */
export function costInAsset(price: ModelPrice, usage: TokenUsage, asset: Address, config: PricingConfig, grantId: Hex): bigint {
  const rate = podRate(asset, config);
  if (rate === undefined) throw new KeyRejected("unpriced_asset", grantId, `this gateway has no POD price in asset ${asset}`);
  return ceilDiv(podWeiTimesMillion(price, usage) * rate.units, TOKENS_PER_PRICE * rate.perPodWei);
}

/** Whether grants in `asset` can be priced here (POD, or a configured stablecoin). */
export function isPricedAsset(asset: Address, config: PricingConfig): boolean {
  return podRate(asset, config) !== undefined;
}

/** `units` of the asset buy `perPodWei` POD wei. */
function podRate(asset: Address, config: PricingConfig): { units: bigint; perPodWei: bigint } | undefined {
  if (isAddressEqual(asset, config.pod)) return { units: 1n, perPodWei: 1n };
  const coin = config.stablecoins.find((c) => isAddressEqual(c.asset, asset));
  return coin === undefined ? undefined : { units: coin.unitsPerPod, perPodWei: POD_WEI };
}

function podWeiTimesMillion(price: ModelPrice, usage: TokenUsage): bigint {
  for (const [name, n] of Object.entries(usage)) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer`);
  }
  return BigInt(usage.promptTokens) * price.inputPricePerMTok + BigInt(usage.completionTokens) * price.outputPricePerMTok;
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;
