/**
 * Contract addresses from a deployment file: Ignition's `deployed_addresses.json`, whose keys are
 * `<Module>#<Contract>` (the module differs between deployments: PodCore, PodNetwork, PodDevnet),
 * or a plain `{ "<Contract>": "0x…" }` object. Every service reads addresses this way, never pasted.
 */
import { getAddress, isAddress, type Address } from "viem";

export class DeploymentError extends Error {
  override name = "DeploymentError";
  /** The contract the error is about, when there is one. */
  readonly contract: string | undefined;
  constructor(message: string, contract?: string) {
    super(message);
    this.contract = contract;
  }
}

export type Deployment = ReadonlyMap<string, Address>;

/** Parses the file's JSON text; `source` names it in errors. */
export function parseDeployment(text: string, source: string): Deployment {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DeploymentError(`cannot read ${source} as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new DeploymentError(`${source} is not a JSON object of addresses`);
  const addresses = new Map<string, Address>();
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== "string" || !isAddress(value, { strict: false })) throw new DeploymentError(`${source}: ${key} is not an address: ${JSON.stringify(value)}`, key);
    addresses.set(key, getAddress(value));
  }
  return addresses;
}

/**
 * The address of `contract` (its Ignition future id `<Module>#<Contract>` or a plain key), or
 * undefined when absent. Two modules deploying the same contract make it ambiguous: an error.
 */
export function deployedAddress(deployment: Deployment, contract: string): Address | undefined {
  const entries = [...deployment].filter(([key]) => key === contract || key.endsWith(`#${contract}`));
  if (entries.length > 1) throw new DeploymentError(`${entries.length} entries for ${contract}: ${entries.map(([k]) => k).join(", ")}`, contract);
  return entries[0]?.[1];
}
