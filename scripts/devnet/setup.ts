/**
 * On-chain set-up of a fresh devnet, done with the SDK as its users would: the deployer funds the
 * demo accounts and, through a real governance vote, enables the model; the bonded operator stakes
 * and bonds; each operator registers its node key; the user deposits credit and signs an API key.
 */
import { createPublicClient, createWalletClient, encodeFunctionData, http, parseEther, type Address, type Hex } from "viem";
import type { LocalAccount, PrivateKeyAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { devStablecoinAbi, podTokenAbi, protocolParamsAbi } from "../../sdk/src/abi/contracts.ts";
import { createPodClient, podContractsFromDevnet, type PodClient } from "../../sdk/src/index.ts";
import { registryModelId } from "../../sdk/src/modelId.ts";
import { DEVNET_ACCOUNTS, OPERATORS } from "./accounts.ts";
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

export type Chain = { readonly rpcUrl: string; readonly contracts: DevnetContracts; as(account: PrivateKeyAccount): PodClient };

export function connectChain(rpcUrl: string, contracts: DevnetContracts): Chain {
  const transport = http(rpcUrl);
  const publicClient = createPublicClient({ chain: hardhat, transport, pollingInterval: 250 });
  const deployment = podContractsFromDevnet({ contracts });
  return {
    rpcUrl,
    contracts,
    as: (account) => createPodClient({ publicClient, walletClient: createWalletClient({ account, chain: hardhat, transport, pollingInterval: 250 }), deployment }),
  };
}

/** POD and stablecoin for the demo accounts (ETH for gas comes from `hardhat node --hostname 127.0.0.1` itself). */
export async function fundAccounts(chain: Chain): Promise<void> {
  const deployer = chain.as(DEVNET_ACCOUNTS.deployer.account);
  const { PodToken, Stablecoin } = chain.contracts;
  const wallet = deployer.walletClient!;
  const send = async (request: Parameters<typeof wallet.writeContract>[0]) => {
    const hash = await wallet.writeContract(request);
    const receipt = await deployer.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 250 });
    if (receipt.status !== "success") throw new Error(`funding transaction ${hash} reverted`);
  };
  const transfers = [[DEVNET_ACCOUNTS.user, FUNDING.userPod], ...OPERATORS.map((o) => [o, FUNDING.operatorPod] as const)] as const;
  for (const [to, amount] of transfers) await send({ address: PodToken, abi: podTokenAbi, functionName: "transfer", args: [to.account.address, amount] } as never);
  await send({ address: Stablecoin, abi: devStablecoinAbi, functionName: "mint", args: [DEVNET_ACCOUNTS.user.account.address, FUNDING.userStablecoin] } as never);
  // The deployer's POD votes carry the devnet's governance (delegation activates them).
  await deployer.delegateVotes();
  // Votes count from the next second on (the Governor reads them at clock() - 1).
  const delegatedAt = (await deployer.publicClient.getBlock()).timestamp;
  await waitFor(async () => (await deployer.publicClient.getBlock()).timestamp > delegatedAt);
}

/** The first operator stakes POD and bonds the shares for its nodes. */
export async function bondOperator(chain: Chain): Promise<void> {
  const operator = chain.as(OPERATORS[0].account);
  const { shares } = await operator.stake({ assets: FUNDING.bondedStake });
  await operator.bond({ shares });
}

/** Registers `nodeKey` under `owner` for `modelName`, with the key's proof of possession. */
export async function registerNode(chain: Chain, owner: PrivateKeyAccount, nodeKey: LocalAccount, modelName: string): Promise<void> {
  await chain.as(owner).registerNode({ nodeKey, models: [modelName], metadataURI: `devnet://${owner.address}` });
}

/** The user deposits POD credit and signs a spend grant for the gateway: the API key. */
export async function userCreditAndKey(chain: Chain, gateway: Address): Promise<string> {
  const user = chain.as(DEVNET_ACCOUNTS.user.account);
  await user.depositCredit({ asset: chain.contracts.PodToken, amount: FUNDING.userCredit });
  const { apiKey } = await user.issueApiKey({ gateway, asset: chain.contracts.PodToken, cap: FUNDING.userCredit, nonce: 1n });
  return apiKey;
}

/**
 * Enables the model through governance: the deployer proposes `setModelParams`, votes for it,
 * queues it in the timelock and executes it once the delay has passed.
 */
export async function enableModelByVote(chain: Chain, modelName: string, onStage: (stage: string) => void = () => undefined): Promise<void> {
  const governor = chain.as(DEVNET_ACCOUNTS.deployer.account);
  onStage("proposing");
  const { proposal } = await governor.propose({
    targets: [chain.contracts.ProtocolParams],
    values: [0n],
    calldatas: [encodeFunctionData({ abi: protocolParamsAbi, functionName: "setModelParams", args: [modelId(modelName), MODEL_PARAMS] })],
    description: `Enable ${modelName} on the devnet`,
  });
  const { proposalId } = proposal;
  await waitFor(async () => (await governor.getProposalState({ proposalId })).state === "active");
  onStage("voting");
  await governor.castVote({ proposalId, support: "for" });
  await waitFor(async () => (await governor.getProposalState({ proposalId })).state === "succeeded");
  onStage("queued in the timelock");
  const { etaSeconds } = await governor.queueProposal({ proposal });
  await waitFor(async () => (await governor.publicClient.getBlock()).timestamp >= etaSeconds);
  onStage("executing");
  await governor.executeProposal({ proposal });
}

export function modelId(name: string): Hex {
  const id = registryModelId(name);
  if (id === undefined) throw new Error(`model id ${name} is longer than 32 bytes`);
  return id;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the chain");
    await new Promise((r) => setTimeout(r, 300));
  }
}
