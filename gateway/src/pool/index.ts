/** The gateway's node pool: nodes join over WebSocket, requests are routed to them. */
export { NodePool, POOL_DEFAULTS, type NodePoolConfig, type NodePoolOptions, type NodeInfo, type ModelInfo, type PoolLogger } from "./pool.ts";
export type { DispatchEvent, DispatchOptions } from "./dispatch.ts";
export { OnChainNodeAuthorizer, registryModelId, type Authorization, type NodeAuthorizer, type OnChainAuthorizerConfig, type RefusalCode } from "./authorizer.ts";
export { chooseNode, rankNodes, compareCandidates, type NodeCandidate, type ChooseOptions } from "./routing.ts";
export { AllAttemptsFailed, DispatchAborted, JobRejected, MidStreamFailure, NoNodeForModel, PoolError, type AttemptFailure } from "./errors.ts";
export type { StreamedToken } from "./job.ts";
export type { PoolCounters, PoolMetrics } from "./metrics.ts";
