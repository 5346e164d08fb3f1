/**
 * Token selection lives in the SDK (sdk/src/sampling.ts): it is part of the protocol, since
 * validators replay a node's seeded draws. This module keeps the engine's import path.
 */
export { argmax, logSumExp, samplingWeights, selectToken, tokenLogprobs, topKIndices } from "../../../sdk/src/sampling.ts";
export type { SamplingParams, SamplingWeights, TokenAlternative } from "../../../sdk/src/sampling.ts";
