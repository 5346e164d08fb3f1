/**
 * On-chain set-up of a fresh devnet, as its users would do it: the deployer funds the demo
 * accounts and, through a real governance vote, enables the model; the bonded operator stakes
 * and bonds; each operator registers its node key; the user deposits credit and signs an API key.
 */
import { createPublicClient, createWalletClient, defineChain, http, keccak256, parseEther, toHex, type Abi, type Address, type ContractFunctionArgs, type ContractFunctionName, type Hex, type PublicClient } from "viem";
import type { LocalAccount } from "viem/accounts";
import { bondManagerAbi, creditVaultAbi, devStablecoinAbi, nodeRegistryAbi, podGovernorAbi, podTokenAbi, protocolParamsAbi, stakedPodAbi } from "../../sdk/src/abi/contracts.ts";
import { createApiKey } from "../../sdk/src/apiKey.ts";
import { registryModelId } from "../../sdk/src/modelId.ts";
import { signNodeKeyOwnership, type SpendGrant } from "../../sdk/src/typedData.ts";
import { DEVNET_ACCOUNTS, OPERATORS, ORACLES } from "./accounts.ts";
import type { DevnetContracts } from "./chain.ts";

export const MODEL_PARAMS = {
  enabled: true,
  workWeightPpm: 1_000_000,
  minTokensPerSecond: 1,
  maxTokensPerSecond: 5_000,
  inputPricePerMTok: parseEther("2"),
  outputPricePerMTok: parseEther("6"),
} as const;

/** What the demo accounts start with. */
export const FUNDING = {
  userPod: parseEther("10000"),
  userStablecoin: 10_000n * 10n ** 6n,
  operatorPod: parseEther("200000"),
  bondedStake: parseEther("100000"),
  userCredit: parseEther("1000"),
} as const;

export type Chain = {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly contracts: DevnetContracts;
  readonly publicClient: PublicClient;
  send<const A extends Abi, F extends ContractFunctionName<A, "nonpayable" | "payable">>(
    from: LocalAccount,
    call: { address: Address; abi: A; functionName: F; args: ContractFunctionArgs<A, "nonpayable" | "payable", F> },
  ): Promise<Hex>;
};

export function connectChain(rpcUrl: string, chainId: number, contracts: DevnetContracts): Chain {
  const chain = defineChain({ id: chainId, name: "POD devnet", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
  const transport = http(rpcUrl);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 250 }) as PublicClient;
  return {
    rpcUrl,
    chainId,
    contracts,
    publicClient,
    async send(from, call) {
      const wallet = createWalletClient({ account: from, chain, transport });
      const { request } = await publicClient.simulateContract({ ...call, account: from } as never);
      const hash = await wallet.writeContract(request as never);
      const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 250 });
      if (receipt.status !== "success") throw new Error(`${String(call.functionName)} reverted in ${hash}`);
      return hash;
    },
  };
}

/** POD and stablecoin for the demo accounts; ETH for gas comes from `hardhat node` itself. */
export async function fundAccounts(chain: Chain): Promise<void> {
  const { deployer, user } = DEVNET_ACCOUNTS;
  const { PodToken, Stablecoin } = chain.contracts;
  const from = deployer.account;
  await chain.send(from, { address: PodToken, abi: podTokenAbi, functionName: "transfer", args: [user.account.address, FUNDING.userPod] });
  for (const operator of OPERATORS) await chain.send(from, { address: PodToken, abi: podTokenAbi, functionName: "transfer", args: [operator.account.address, FUNDING.operatorPod] });
  await chain.send(from, { address: Stablecoin, abi: devStablecoinAbi, functionName: "mint", args: [user.account.address, FUNDING.userStablecoin] });
  // The deployer's POD votes carry the devnet's governance (delegation activates them).
  await chain.send(from, { address: PodToken, abi: podTokenAbi, functionName: "delegate", args: [from.address] });
}

/** The first operator stakes POD and bonds the shares for its nodes. */
export async function bondOperator(chain: Chain): Promise<void> {
  const operator = OPERATORS[0].account;
  const { PodToken, StakedPod, BondManager } = chain.contracts;
  await chain.send(operator, { address: PodToken, abi: podTokenAbi, functionName: "approve", args: [StakedPod, FUNDING.bondedStake] });
  await chain.send(operator, { address: StakedPod, abi: stakedPodAbi, functionName: "deposit", args: [FUNDING.bondedStake, operator.address] });
  const shares = await chain.publicClient.readContract({ address: StakedPod, abi: stakedPodAbi, functionName: "balanceOf", args: [operator.address] });
  await chain.send(operator, { address: BondManager, abi: bondManagerAbi, functionName: "bond", args: [shares] });
}

/** Registers `nodeKey` under `owner` for `modelName`, with the key's proof of possession. */
export async function registerNode(chain: Chain, owner: LocalAccount, nodeKey: LocalAccount, modelName: string): Promise<void> {
  const { NodeRegistry } = chain.contracts;
  const nonce = await chain.publicClient.readContract({ address: NodeRegistry, abi: nodeRegistryAbi, functionName: "keyNonce", args: [nodeKey.address] });
  const proof = await signNodeKeyOwnership(nodeKey, { account: owner.address, nonce, chainId: chain.chainId, registry: NodeRegistry });
  await chain.send(owner, { address: NodeRegistry, abi: nodeRegistryAbi, functionName: "registerNode", args: [nodeKey.address, [modelId(modelName)], `devnet://${owner.address}`, proof] });
}

/** The user deposits POD credit and signs a spend grant for the gateway: the API key. */
export async function userCreditAndKey(chain: Chain, gateway: Address): Promise<string> {
  const user = DEVNET_ACCOUNTS.user.account;
  const { PodToken, CreditVault } = chain.contracts;
  await chain.send(user, { address: PodToken, abi: podTokenAbi, functionName: "approve", args: [CreditVault, FUNDING.userCredit] });
  await chain.send(user, { address: CreditVault, abi: creditVaultAbi, functionName: "deposit", args: [PodToken, FUNDING.userCredit] });
  const grant: SpendGrant = {
    account: user.address,
    gateway,
    asset: PodToken,
    cap: FUNDING.userCredit,
    expiry: BigInt(Math.floor(Date.now() / 1000) + 30 * 86_400),
    nonce: 1n,
  };
  return createApiKey(user, grant, { chainId: chain.chainId, vault: CreditVault });
}

/**
 * Enables the model through governance: the deployer proposes `setModelParams`, votes for it,
 * queues it in the timelock and executes it once the delay has passed.
 */
export async function enableModelByVote(chain: Chain, modelName: string, onStage: (stage: string) => void = () => undefined): Promise<void> {
  const from = DEVNET_ACCOUNTS.deployer.account;
  const { Governor, ProtocolParams } = chain.contracts;
  const { encodeFunctionData } = await import("viem");
  const calldata = encodeFunctionData({ abi: protocolParamsAbi, functionName: "setModelParams", args: [modelId(modelName), MODEL_PARAMS] });
  const description = `Enable ${modelName} on the devnet`;
  const proposal = [[ProtocolParams], [0n], [calldata]] as const;
  const descriptionHash = keccak256(toHex(description));
  const id = await chain.publicClient.readContract({ address: Governor, abi: podGovernorAbi, functionName: "hashProposal", args: [...proposal, descriptionHash] });
  const state = async () => Number(await chain.publicClient.readContract({ address: Governor, abi: podGovernorAbi, functionName: "state", args: [id] }));
  onStage("proposing");
  await chain.send(from, { address: Governor, abi: podGovernorAbi, functionName: "propose", args: [...proposal, description] });
  await waitFor(async () => (await state()) === GOVERNOR_STATE.Active);
  onStage("voting");
  await chain.send(from, { address: Governor, abi: podGovernorAbi, functionName: "castVote", args: [id, 1] });
  await waitFor(async () => (await state()) === GOVERNOR_STATE.Succeeded);
  onStage("queued in the timelock");
  await chain.send(from, { address: Governor, abi: podGovernorAbi, functionName: "queue", args: [...proposal, descriptionHash] });
  const eta = await chain.publicClient.readContract({ address: Governor, abi: podGovernorAbi, functionName: "proposalEta", args: [id] });
  await waitFor(async () => (await chain.publicClient.getBlock()).timestamp >= eta);
  onStage("executing");
  await chain.send(from, { address: Governor, abi: podGovernorAbi, functionName: "execute", args: [...proposal, descriptionHash] });
}

export const GOVERNOR_STATE = { Pending: 0, Active: 1, Canceled: 2, Defeated: 3, Succeeded: 4, Queued: 5, Expired: 6, Executed: 7 } as const;

export function modelId(name: string): Hex {
  const id = registryModelId(name);
  if (id === undefined) throw new Error(`model id ${name} is longer than 32 bytes`);
  return id;
}

/** The oracle addresses, for devnet.json and logs. */
export const oracleAddresses = (): Address[] => ORACLES.map((o) => o.account.address);

async function waitFor(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the chain");
    await new Promise((r) => setTimeout(r, 300));
  }
}
