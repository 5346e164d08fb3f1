/**
 * Who may join the pool. The pool asks a NodeAuthorizer at hello and again periodically; the
 * on-chain one reads the NodeRegistry (registered, serving, per-model) and the BondManager
 * (whether the node's account has an active bond), with a short cache so a reconnect storm or
 * the periodic re-check does not hammer the RPC.
 */
import type { Address, PublicClient } from "viem";
import { registryModelId } from "../../../sdk/src/modelId.ts";
import { bondManagerAbi, nodeRegistryAbi } from "../../../sdk/src/abi/contracts.ts";

export type RefusalCode = "not_registered" | "banned_or_suspended" | "no_served_model";

export type Authorization =
  | { ok: true; account: Address; bonded: boolean; /** the requested model ids the node may serve */ models: string[] }
  | { ok: false; code: RefusalCode; message: string };

export interface NodeAuthorizer {
  /** Whether `node` may serve, and which of `models` (model ids as the manifests name them). */
  authorize(node: Address, models: readonly string[]): Promise<Authorization>;
}

export { registryModelId };

/** NodeRegistry.NodeStatus */
const STATUS_NONE = 0;
const STATUS_LEFT = 2;
const STATUS_BANNED = 3;

export type OnChainAuthorizerConfig = {
  client: Pick<PublicClient, "readContract">;
  nodeRegistry: Address;
  bondManager: Address;
  /** How long an answer is reused (ms). Keep it well under the pool's re-check interval. */
  cacheTtlMs: number;
  now?: () => number;
};

export class OnChainNodeAuthorizer implements NodeAuthorizer {
  private readonly config: OnChainAuthorizerConfig;
  private readonly now: () => number;
  private readonly cache = new Map<string, { at: number; answer: Promise<Authorization> }>();

  constructor(config: OnChainAuthorizerConfig) {
    this.config = config;
    this.now = config.now ?? Date.now;
  }

  authorize(node: Address, models: readonly string[]): Promise<Authorization> {
    const key = `${node.toLowerCase()}|${[...models].sort().join("\n")}`;
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit !== undefined && now - hit.at < this.config.cacheTtlMs) return hit.answer;
    for (const [k, v] of this.cache) if (now - v.at >= this.config.cacheTtlMs) this.cache.delete(k);
    const answer = this.read(node, models);
    this.cache.set(key, { at: now, answer });
    // A failed read (RPC down) must not be cached: the next ask retries.
    answer.catch(() => this.cache.delete(key));
    return answer;
  }

  private async read(node: Address, models: readonly string[]): Promise<Authorization> {
    const { client, nodeRegistry, bondManager } = this.config;
    const record = await client.readContract({ address: nodeRegistry, abi: nodeRegistryAbi, functionName: "getNode", args: [node] });
    if (record.status === STATUS_NONE) return { ok: false, code: "not_registered", message: `node ${node} is not registered` };
    if (record.status === STATUS_LEFT) return { ok: false, code: "not_registered", message: `node ${node} has left the registry` };
    if (record.status === STATUS_BANNED) return { ok: false, code: "banned_or_suspended", message: `node ${node} is banned` };
    const serving = await client.readContract({ address: nodeRegistry, abi: nodeRegistryAbi, functionName: "isNodeServing", args: [node] });
    if (!serving) return { ok: false, code: "banned_or_suspended", message: `node ${node} or its account is suspended or banned` };
    const served = await Promise.all(
      models.map(async (model) => {
        const id = registryModelId(model);
        if (id === undefined) return false;
        return client.readContract({ address: nodeRegistry, abi: nodeRegistryAbi, functionName: "isServingModel", args: [node, id] });
      }),
    );
    const accepted = models.filter((_, i) => served[i] === true);
    if (accepted.length === 0) return { ok: false, code: "no_served_model", message: `node ${node} is registered for none of ${JSON.stringify(models)}` };
    const shares = await client.readContract({ address: bondManager, abi: bondManagerAbi, functionName: "activeShares", args: [record.account] });
    return { ok: true, account: record.account, bonded: shares > 0n, models: accepted };
  }
}
