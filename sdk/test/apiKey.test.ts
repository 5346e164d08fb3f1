import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { getAddress, hashTypedData, maxUint256, parseEther, parseSignature, serializeSignature, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { deployCore, type Core } from "../../test/helpers/fixture.ts";
import { API_KEY_PREFIX, ApiKeyError, createApiKey, encodeApiKey, grantIdOf, parseApiKey, verifyApiKey, type ApiKeyErrorCode, type ParsedApiKey } from "../src/apiKey.ts";
import { SECP256K1_HALF_N } from "../src/signature.ts";
import { SPEND_GRANT_TYPES, settlementDomain, type SpendGrant } from "../src/typedData.ts";

const account = privateKeyToAccount(generatePrivateKey());
const other = privateKeyToAccount(generatePrivateKey());
const VAULT = getAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3");
const GATEWAY = getAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
const ASSET = getAddress("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0");
const target = { chainId: 31337, vault: VAULT };

const grant: SpendGrant = { account: account.address, gateway: GATEWAY, asset: ASSET, cap: parseEther("250"), expiry: 1_900_000_000n, nonce: 7n };

async function rejects(promise: Promise<unknown> | (() => unknown), code: ApiKeyErrorCode) {
  await assert.rejects(async () => (typeof promise === "function" ? promise() : promise), (error: unknown) => {
    assert.ok(error instanceof ApiKeyError, `expected ApiKeyError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** The key's body bytes, to build malformed variants. */
const bodyOf = (key: string) => new Uint8Array(Buffer.from(key.slice(API_KEY_PREFIX.length), "base64url"));
const keyOf = (bytes: Uint8Array) => API_KEY_PREFIX + Buffer.from(bytes).toString("base64url");

describe("API keys", () => {
  let key: string;
  before(async () => {
    key = await createApiKey(account, grant, target);
  });

  test("round trip: the parsed key carries the grant, chain and vault, and verifies to the account", async () => {
    const parsed = parseApiKey(key);
    assert.deepEqual(parsed.grant, grant);
    assert.equal(parsed.chainId, target.chainId);
    assert.equal(parsed.vault, VAULT);
    assert.equal(parsed.version, 1);
    assert.deepEqual(await verifyApiKey(parsed, { ...target, gateway: GATEWAY }), { signer: account.address });
    assert.equal(encodeApiKey(parsed), key, "one grant, one key");
    assert.match(key, /^pod_[A-Za-z0-9_-]+$/);
    // Short enough for any HTTP header: even the widest grant (every integer at its maximum)
    // is 308 characters.
    console.log(`API key length: ${key.length} characters (this grant)`);
    assert.ok(key.length <= 240, `key length ${key.length}`);
    const widest = await createApiKey(account, { ...grant, cap: maxUint256, expiry: 2n ** 64n - 1n, nonce: maxUint256 }, { chainId: 2 ** 48 - 1, vault: VAULT });
    console.log(`API key length: ${widest.length} characters (widest grant)`);
    assert.equal(widest.length, 308);
    assert.deepEqual(parseApiKey(widest).grant.cap, maxUint256);
  });

  test("zero-valued integers encode and round trip", async () => {
    const zero = { ...grant, cap: 0n, expiry: 0n, nonce: 0n };
    const parsed = parseApiKey(await createApiKey(account, zero, target));
    assert.deepEqual(parsed.grant, zero);
  });

  test("tampering with any field breaks the signature", async () => {
    const parsed = parseApiKey(key);
    const tampered: [string, ParsedApiKey][] = [
      ["chainId", { ...parsed, chainId: 1 }],
      ["vault", { ...parsed, vault: ASSET }],
      ["account", { ...parsed, grant: { ...grant, account: other.address } }],
      ["gateway", { ...parsed, grant: { ...grant, gateway: other.address } }],
      ["asset", { ...parsed, grant: { ...grant, asset: VAULT } }],
      ["cap", { ...parsed, grant: { ...grant, cap: grant.cap + 1n } }],
      ["expiry", { ...parsed, grant: { ...grant, expiry: grant.expiry + 1n } }],
      ["nonce", { ...parsed, grant: { ...grant, nonce: grant.nonce + 1n } }],
      ["signature r", { ...parsed, signature: flipByte(parsed.signature, 5) }],
    ];
    for (const [field, changed] of tampered) {
      const reparsed = parseApiKey(encodeApiKey(changed));
      await assert.rejects(verifyApiKey(reparsed), (error: unknown) => error instanceof ApiKeyError && error.code === "invalid_signature", `tampered ${field}`);
    }
  });

  test("only the canonical signature is accepted (no high-s twin, v is 27 or 28)", async () => {
    const parsed = parseApiKey(key);
    const { r, s, yParity } = parseSignature(parsed.signature);
    const twin = serializeSignature({ r, s: `0x${(2n * SECP256K1_HALF_N + 1n - BigInt(s)).toString(16).padStart(64, "0")}`, yParity: 1 - yParity });
    await rejects(verifyApiKey({ ...parsed, signature: twin }), "non_canonical_signature");
    const v01 = `${parsed.signature.slice(0, 130)}0${yParity}` as Hex;
    await rejects(verifyApiKey({ ...parsed, signature: v01 }), "non_canonical_signature");
  });

  test("a key is checked against the gateway's chain, vault and own address", async () => {
    const parsed = parseApiKey(key);
    await rejects(verifyApiKey(parsed, { chainId: 1 }), "wrong_chain");
    await rejects(verifyApiKey(parsed, { vault: ASSET }), "wrong_vault");
    await rejects(verifyApiKey(parsed, { gateway: other.address }), "wrong_gateway");
  });

  test("a signer other than the grant's account cannot create its key", async () => {
    await rejects(createApiKey(other, grant, target), "invalid_signature");
  });

  test("malformed keys are refused with a reason code", async () => {
    const body = bodyOf(key);
    const malformed: [string, string][] = [
      ["no prefix", key.slice(API_KEY_PREFIX.length)],
      ["wrong prefix", `sk_${key.slice(API_KEY_PREFIX.length)}`],
      ["empty body", API_KEY_PREFIX],
      ["padding", `${key}=`],
      ["foreign character", `${key.slice(0, 20)}+${key.slice(21)}`],
      ["whitespace", `${key} `],
      ["trailing byte", keyOf(Uint8Array.from([...body, 0]))],
      ["too long", API_KEY_PREFIX + "A".repeat(600)],
      ["chainId 0", keyOf(Uint8Array.from([1, 0, ...body.subarray(4)]))],
      ["chainId with a leading zero", keyOf(Uint8Array.from([1, 3, 0, ...body.subarray(2)]))],
      ["chainId longer than 6 bytes", keyOf(Uint8Array.from([1, 7, 1, 1, 1, 1, 1, 1, 1, ...body.subarray(4)]))],
    ];
    for (let cut = 1; cut < body.length; cut += 7) malformed.push([`truncated to ${cut} bytes`, keyOf(body.subarray(0, cut))]);
    // base64url whose last character carries stray low bits decodes to the same bytes.
    const last = key.at(-1) as string;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if (body.length % 3 !== 0) malformed.push(["non-canonical base64url", key.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1]]);
    for (const [what, bad] of malformed) await rejects(() => parseApiKey(bad), "malformed").catch((e: unknown) => assert.fail(`${what}: ${String(e)}`));
    await rejects(() => parseApiKey(keyOf(Uint8Array.from([2, ...body.subarray(1)]))), "unsupported_version");
    await rejects(() => parseApiKey(keyOf(Uint8Array.from([0, ...body.subarray(1)]))), "unsupported_version");
  });
});

describe("grant ids against the deployed CreditVault", () => {
  let connection: NetworkConnection;
  let core: Core;
  before(async () => {
    connection = await network.create();
    core = await deployCore(connection);
  });
  after(async () => {
    await connection.close();
  });

  test("grantIdOf equals CreditVault.grantId, and the key's signed digest equals grantDigest", async () => {
    const chainId = await core.publicClient.getChainId();
    const vault = core.creditVault.address as Address;
    const grants: SpendGrant[] = [
      grant,
      { ...grant, cap: 0n, expiry: 0n, nonce: 0n },
      { ...grant, cap: maxUint256, expiry: 2n ** 64n - 1n, nonce: maxUint256 },
    ];
    for (const g of grants) {
      assert.equal(grantIdOf(g), await core.creditVault.read.grantId([g]));
      const digest = hashTypedData({ domain: settlementDomain("creditVault", chainId, vault), types: SPEND_GRANT_TYPES, primaryType: "SpendGrant", message: g });
      assert.equal(digest, await core.creditVault.read.grantDigest([g]));
    }
  });

  test("a wallet client signs keys too", async () => {
    const vault = core.creditVault.address as Address;
    const wallet = core.alice;
    const chainId = await wallet.getChainId();
    const key = await createApiKey(wallet, { ...grant, account: wallet.account.address }, { chainId, vault });
    assert.deepEqual(await verifyApiKey(parseApiKey(key), { chainId, vault }), { signer: getAddress(wallet.account.address) });
  });
});

function flipByte(hex: Hex, index: number): Hex {
  const at = 2 + index * 2;
  const byte = (Number.parseInt(hex.slice(at, at + 2), 16) ^ 0xff).toString(16).padStart(2, "0");
  return `${hex.slice(0, at)}${byte}${hex.slice(at + 2)}` as Hex;
}
