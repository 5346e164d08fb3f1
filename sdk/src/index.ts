/**
 * POD Network SDK (viem): typed ABIs, the clients and every action, typed errors, API keys and
 * the EIP-712 types. Actions come standalone (`stake(pod, { assets })`) or bound by
 * createPodClient (`pod.stake({ assets })`).
 */
export * from "./abi/contracts.ts";
export * from "./client.ts";
export * from "./errors.ts";
export * from "./actions/credit.ts";
export * from "./actions/apiKeys.ts";
export * from "./actions/staking.ts";
export * from "./actions/bonds.ts";
export * from "./actions/rewards.ts";
export * from "./actions/nodes.ts";
export * from "./actions/reports.ts";
export * from "./actions/governance.ts";
export * from "./actions/reads.ts";
export type { WriteResult } from "./actions/internal.ts";
export { API_KEY_PREFIX, ApiKeyError, createApiKey, encodeApiKey, grantIdOf, parseApiKey, verifyApiKey, type GrantSigner, type ParsedApiKey } from "./apiKey.ts";
export { DOMAIN_NAMES, settlementDomain, signNodeKeyOwnership, SPEND_GRANT_TYPES, NODE_KEY_OWNERSHIP_TYPES, EPOCH_ROOT_TYPES, type EpochRoot, type SpendGrant } from "./typedData.ts";
export { DeploymentError, deployedAddress, parseDeployment, type Deployment } from "./deployment.ts";
export { registryModelId } from "./modelId.ts";
export { CumulativeRewardTree, verifyCumulativeProof, type CumulativeLeaf } from "./merkle/tree.ts";
