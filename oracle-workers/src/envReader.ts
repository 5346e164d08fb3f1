/**
 * Reading a service's environment once, for `pod-oracle run` and `pod-oracle validate`: every
 * mistake is a ConfigError naming its variable. Pure: the environment and a file reader are given.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { deployedAddress, DeploymentError, parseDeployment, type Deployment } from "../../sdk/src/deployment.ts";
import { PrivateKeyError, readPrivateKey } from "../../sdk/src/privateKey.ts";

export class ConfigError extends Error {
  override name = "ConfigError";
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.variable = variable;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;
export type ReadText = (path: string) => string;
export type EnvVar = { name: string; default?: string; help: string };

export class EnvReader {
  readonly #env: Env;
  readonly #readText: ReadText;
  #deployment: Deployment | undefined | null = null;

  constructor(env: Env, readText: ReadText) {
    this.#env = env;
    this.#readText = readText;
  }

  /** The trimmed value, undefined when unset or empty. */
  text(name: string): string | undefined {
    const value = this.#env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) throw new ConfigError(name, `expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return value;
  }

  /** Comma-separated http(s) URLs, without trailing slashes. */
  urls(name: string): string[] {
    return (this.text(name) ?? "").split(",").map((u) => u.trim()).filter((u) => u !== "").map((u) => {
      if (!URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol)) throw new ConfigError(name, `not an http(s) URL: ${JSON.stringify(u)}`);
      return u.replace(/\/+$/, "");
    });
  }

  /** POD_RPC_URL: http(s) or ws(s), 127.0.0.1:8545 by default. */
  rpcUrl(): string {
    const rpcUrl = this.text("POD_RPC_URL") ?? "http://127.0.0.1:8545";
    if (!URL.canParse(rpcUrl) || !/^(https?|wss?):$/.test(new URL(rpcUrl).protocol)) throw new ConfigError("POD_RPC_URL", `not an http(s) or ws(s) URL: ${JSON.stringify(rpcUrl)}`);
    return rpcUrl;
  }

  /** POD_GATEWAYS (at least one) with POD_RECEIPTS_TOKEN. */
  gateways(): { url: string; token: string | undefined }[] {
    const token = this.text("POD_RECEIPTS_TOKEN");
    const gateways = this.urls("POD_GATEWAYS").map((url) => ({ url, token }));
    if (gateways.length === 0) throw new ConfigError("POD_GATEWAYS", "required: at least one gateway base URL");
    return gateways;
  }

  /** A private key or a file holding it. */
  key(name: string, required: true): Hex;
  key(name: string, required: false): Hex | undefined;
  key(name: string, required: boolean): Hex | undefined {
    const raw = this.text(name);
    if (raw === undefined) {
      if (required) throw new ConfigError(name, "required: a private key or a file holding it");
      return undefined;
    }
    try {
      return readPrivateKey(raw, this.#readText);
    } catch (error) {
      if (error instanceof PrivateKeyError) throw new ConfigError(name, error.message);
      throw error;
    }
  }

  /** An address given by `variable`, else `contract`'s entry in POD_DEPLOYMENT; undefined when neither. */
  optionalAddress(variable: string, contract: string): Address | undefined {
    const explicit = this.text(variable);
    if (explicit !== undefined) {
      if (!isAddress(explicit, { strict: false })) throw new ConfigError(variable, `not an address: ${JSON.stringify(explicit)}`);
      return getAddress(explicit);
    }
    const deployment = this.#readDeployment();
    try {
      return deployment === undefined ? undefined : deployedAddress(deployment, contract);
    } catch (error) {
      if (error instanceof DeploymentError) throw new ConfigError("POD_DEPLOYMENT", error.message);
      throw error;
    }
  }

  address(variable: string, contract: string): Address {
    const found = this.optionalAddress(variable, contract);
    if (found === undefined) throw new ConfigError(variable, `required (or POD_DEPLOYMENT with a ${contract} entry)`);
    return found;
  }

  /** A path, with a leading ~ expanded. */
  path(name: string, fallback: string): string {
    const path = this.text(name) ?? fallback;
    return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
  }

  readText(path: string): string {
    return this.#readText(path);
  }

  #readDeployment(): Deployment | undefined {
    if (this.#deployment !== null) return this.#deployment;
    const path = this.text("POD_DEPLOYMENT");
    if (path === undefined) return (this.#deployment = undefined);
    let content: string;
    try {
      content = this.#readText(path);
    } catch (error) {
      throw new ConfigError("POD_DEPLOYMENT", `cannot read ${path}: ${(error as Error).message}`);
    }
    try {
      return (this.#deployment = parseDeployment(content, path));
    } catch (error) {
      if (error instanceof DeploymentError) throw new ConfigError("POD_DEPLOYMENT", error.message);
      throw error;
    }
  }
}

/** The variables section of a command's --help. */
export function describeEnvVars(vars: readonly EnvVar[]): string {
  const width = Math.max(...vars.map((v) => v.name.length));
  return vars.map((v) => `  ${v.name.padEnd(width)}  ${v.help}${v.default === undefined ? "" : ` (default ${v.default})`}`).join("\n");
}
