/**
 * The node key: a secp256k1 private key that names the node (its address) and signs receipts
 * and gateway logins. Stored as JSON readable by the owner only (0600); a key file that others
 * can read is refused, as ssh does.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isHex, type Hex, type LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { KeyError } from "../errors.ts";

export const KEY_FILE_VERSION = 1;

export function defaultKeyPath(): string {
  return path.join(process.env.POD_NODE_HOME ?? path.join(os.homedir(), ".pod-node"), "node-key.json");
}

type KeyFile = { version: number; address: string; privateKey: Hex; createdAt: string };

/** Writes a new key; refuses to overwrite one unless `force`. Returns the node's account. */
export async function generateKeyFile(file: string, options: { force?: boolean } = {}): Promise<LocalAccount> {
  const exists = await stat(file).then(() => true, () => false);
  if (exists && options.force !== true) throw new KeyError(`${file} already exists; pass --force to replace it (the old node identity is lost)`);
  const privateKey = generatePrivateKey();
  const account = privateKeyToAccount(privateKey);
  const body: KeyFile = { version: KEY_FILE_VERSION, address: account.address, privateKey, createdAt: new Date().toISOString() };
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // A fresh file created 0600 ("wx": never through an existing file or link), then renamed
  // over the target: the key is never readable by others, not even for a moment on --force.
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(JSON.stringify(body, null, 2) + "\n");
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, file);
  return account;
}

export async function loadKeyFile(file: string): Promise<LocalAccount> {
  let info;
  try {
    info = await stat(file);
  } catch (cause) {
    throw new KeyError(`no node key at ${file}; create one with \`npm run node -- keygen\``, { cause });
  }
  if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
    throw new KeyError(`${file} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 ${file}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (cause) {
    throw new KeyError(`${file} is not a node key file`, { cause });
  }
  const body = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const key = body.privateKey;
  if (typeof key !== "string" || !isHex(key) || key.length !== 66) throw new KeyError(`${file} has no valid privateKey`);
  const account = privateKeyToAccount(key);
  if (typeof body.address === "string" && body.address.toLowerCase() !== account.address.toLowerCase()) {
    throw new KeyError(`${file}: address ${body.address} does not match its private key`);
  }
  return account;
}
