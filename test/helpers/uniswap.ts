import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import {
  getContract,
  isHex,
  keccak256,
  maxUint256,
  parseAbi,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type WalletClient,
} from "viem";

/**
 * Real Uniswap V2 for tests: the factory, pair, WETH9 and Router02 deployed from the bytecode
 * published in @uniswap/v2-core 1.0.1 and @uniswap/v2-periphery 1.1.0-beta.0, not recompiled.
 */

/** A published Uniswap build artifact: the two fields the tests use. */
export interface UniswapArtifact {
  abi: Abi;
  bytecode: Hex;
}

/** The pair init-code hash that Router02 (UniswapV2Library.pairFor) has hard-coded. */
export const PAIR_INIT_CODE_HASH: Hex = "0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f";

const require = createRequire(import.meta.url);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Loads `build/<name>.json` of an @uniswap package, checking that it has an ABI and creation bytecode. */
export function loadUniswapArtifact(pkg: "v2-core" | "v2-periphery", name: string): UniswapArtifact {
  const path = require.resolve(`@uniswap/${pkg}/build/${name}.json`);
  const json: unknown = JSON.parse(readFileSync(path, "utf8"));
  if (!isRecord(json)) throw new Error(`${path}: not a JSON object`);
  const { abi, bytecode } = json;
  if (!Array.isArray(abi) || !abi.every((entry) => isRecord(entry) && typeof entry.type === "string")) {
    throw new Error(`${path}: abi is not a list of ABI entries`);
  }
  const code = typeof bytecode === "string" && !bytecode.startsWith("0x") ? `0x${bytecode}` : bytecode;
  if (typeof code !== "string" || !isHex(code) || code.length <= 2) throw new Error(`${path}: no creation bytecode`);
  // Checked above: every entry is an object with a string `type`, which is what viem reads.
  return { abi: abi as Abi, bytecode: code };
}

/** The functions and events of the published contracts that the tests call, for typed access. */
export const factoryAbi = parseAbi([
  "function createPair(address tokenA, address tokenB) returns (address pair)",
  "function getPair(address tokenA, address tokenB) view returns (address pair)",
]);
export const pairAbi = parseAbi([
  "function token0() view returns (address)",
  "function token1() view returns (address)",
  "function getReserves() view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast)",
  "function price0CumulativeLast() view returns (uint256)",
  "function price1CumulativeLast() view returns (uint256)",
  "function sync()",
  "event Swap(address indexed sender, uint256 amount0In, uint256 amount1In, uint256 amount0Out, uint256 amount1Out, address indexed to)",
]);
export const routerAbi = parseAbi([
  "function factory() view returns (address)",
  "function WETH() view returns (address)",
  "function addLiquidity(address tokenA, address tokenB, uint256 amountADesired, uint256 amountBDesired, uint256 amountAMin, uint256 amountBMin, address to, uint256 deadline) returns (uint256 amountA, uint256 amountB, uint256 liquidity)",
  "function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline) returns (uint256[] amounts)",
  "function getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) pure returns (uint256 amountOut)",
  "function getAmountsOut(uint256 amountIn, address[] path) view returns (uint256[] amounts)",
]);
const erc20Abi = parseAbi(["function approve(address spender, uint256 amount) returns (bool)"]);

export interface UniswapClients {
  publicClient: PublicClient;
  deployer: WalletClient;
}

async function deploy(clients: UniswapClients, artifact: UniswapArtifact, args: readonly unknown[]): Promise<Address> {
  const { deployer, publicClient } = clients;
  if (!deployer.account) throw new Error("the deployer wallet has no account");
  const hash = await deployer.deployContract({
    abi: artifact.abi,
    bytecode: artifact.bytecode,
    args,
    account: deployer.account,
    chain: deployer.chain,
  });
  const { contractAddress, status } = await publicClient.waitForTransactionReceipt({ hash });
  if (status !== "success" || !contractAddress) throw new Error(`deployment reverted: ${hash}`);
  return contractAddress;
}

/** Deploys WETH9, UniswapV2Factory (no fee recipient setter beyond the deployer) and Router02. */
export async function deployUniswapV2(clients: UniswapClients) {
  const feeToSetter = clients.deployer.account?.address;
  if (!feeToSetter) throw new Error("the deployer wallet has no account");
  const weth = await deploy(clients, loadUniswapArtifact("v2-periphery", "WETH9"), []);
  const factoryAddress = await deploy(clients, loadUniswapArtifact("v2-core", "UniswapV2Factory"), [feeToSetter]);
  const routerAddress = await deploy(clients, loadUniswapArtifact("v2-periphery", "UniswapV2Router02"), [
    factoryAddress,
    weth,
  ]);
  const client = { public: clients.publicClient, wallet: clients.deployer };
  return {
    weth,
    factory: getContract({ address: factoryAddress, abi: factoryAbi, client }),
    router: getContract({ address: routerAddress, abi: routerAbi, client }),
  };
}

export type UniswapV2 = Awaited<ReturnType<typeof deployUniswapV2>>;

/** Creates the pair of two tokens through the factory and returns it. */
export async function createPair(clients: UniswapClients, uniswap: UniswapV2, tokenA: Address, tokenB: Address) {
  const hash = await uniswap.factory.write.createPair([tokenA, tokenB], {
    account: clients.deployer.account ?? null,
    chain: clients.deployer.chain,
  });
  await clients.publicClient.waitForTransactionReceipt({ hash });
  const address = await uniswap.factory.read.getPair([tokenA, tokenB]);
  return getContract({ address, abi: pairAbi, client: { public: clients.publicClient, wallet: clients.deployer } });
}

export type UniswapV2Pair = Awaited<ReturnType<typeof createPair>>;

/** Approves the router for `tokens` without limit, on behalf of the unlocked account `owner`. */
export async function approveRouter(clients: UniswapClients, uniswap: UniswapV2, owner: Address, tokens: Address[]) {
  for (const token of tokens) {
    const hash = await clients.deployer.writeContract({
      address: token,
      abi: erc20Abi,
      functionName: "approve",
      args: [uniswap.router.address, maxUint256],
      account: owner,
      chain: clients.deployer.chain,
    });
    await clients.publicClient.waitForTransactionReceipt({ hash });
  }
}

/** Uniswap V2's getAmountOut: the output of `amountIn` against the reserves, after the 0.3% fee. */
export function v2AmountOut(amountIn: bigint, reserveIn: bigint, reserveOut: bigint): bigint {
  const withFee = amountIn * 997n;
  return (withFee * reserveOut) / (reserveIn * 1000n + withFee);
}

/** The pair's reserves seen from `tokenIn`: [reserveIn, reserveOut]. */
export async function reservesFor(pair: UniswapV2Pair, tokenIn: Address): Promise<[bigint, bigint]> {
  const [reserve0, reserve1] = await pair.read.getReserves();
  const token0 = await pair.read.token0();
  return token0.toLowerCase() === tokenIn.toLowerCase() ? [reserve0, reserve1] : [reserve1, reserve0];
}

/**
 * The pair's cumulative price of `asset` (in the other token, UQ112x112 seconds) extended to
 * `timestamp` with the current reserves, as UniswapV2OracleLibrary.currentCumulativePrices does.
 */
export async function cumulativePriceAt(pair: UniswapV2Pair, asset: Address, timestamp: bigint): Promise<bigint> {
  const [reserve0, reserve1, last] = await pair.read.getReserves();
  const assetIsToken0 = (await pair.read.token0()).toLowerCase() === asset.toLowerCase();
  const recorded = assetIsToken0 ? await pair.read.price0CumulativeLast() : await pair.read.price1CumulativeLast();
  const [reserveIn, reserveOut] = assetIsToken0 ? [reserve0, reserve1] : [reserve1, reserve0];
  const elapsed = (timestamp - BigInt(last)) % 2n ** 32n;
  if (elapsed === 0n || reserveIn === 0n) return recorded;
  return (recorded + ((reserveOut << 112n) / reserveIn) * elapsed) % 2n ** 256n;
}

/** The init-code hash of the published pair bytecode. */
export const publishedPairInitCodeHash = (): Hex => keccak256(loadUniswapArtifact("v2-core", "UniswapV2Pair").bytecode);
