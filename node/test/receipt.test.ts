import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, stat, chmod } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { hashTokenIds, parseSignedReceipt, signReceipt, verifyReceipt, type SignedReceipt } from "../../sdk/src/receipt.ts";
import { generateKeyFile, loadKeyFile } from "../src/identity/key.ts";
import { KeyError } from "../src/errors.ts";
import type { NodeService } from "../src/service.ts";
import { TINY, tinyService } from "./fixtures.ts";

let service: NodeService;
let signed: SignedReceipt;
let promptIds: number[];
let outputIds: number[];
before(async () => {
  ({ service } = await tinyService());
  const out = await service.run({ model: TINY, prompt: "Sign this", max_tokens: 6, temperature: 0 }, { requestId: "req-123" });
  signed = out.receipt;
  promptIds = out.result.promptTokenIds;
  outputIds = out.result.outputTokenIds;
});

test("a receipt verifies for anyone with the node's address and commits to the work", async () => {
  const check = await verifyReceipt(signed, { chainId: 31337, expectedSigner: service.account.address });
  assert.deepEqual(check, { valid: true, signer: service.account.address });
  const r = signed.receipt;
  assert.equal(r.requestId, "req-123");
  assert.equal(r.modelId, TINY);
  assert.equal(r.promptHash, hashTokenIds(promptIds));
  assert.equal(r.outputHash, hashTokenIds(outputIds));
  assert.equal(r.promptTokens, promptIds.length);
  assert.equal(r.outputTokens, 6);
  assert.ok(r.totalMs >= r.firstTokenMs && r.startedAt > 1.7e12);
  // Survives JSON (gateway storage) unchanged.
  const roundTrip = parseSignedReceipt(JSON.parse(JSON.stringify(signed)));
  assert.equal((await verifyReceipt(roundTrip)).valid, true);
});

test("a modified receipt does not verify", async () => {
  const tampered: [string, SignedReceipt][] = [
    ["outputTokens", { ...signed, receipt: { ...signed.receipt, outputTokens: signed.receipt.outputTokens + 1 } }],
    ["modelId", { ...signed, receipt: { ...signed.receipt, modelId: "pod-gpt2-100m" } }],
    ["outputHash", { ...signed, receipt: { ...signed.receipt, outputHash: hashTokenIds([...outputIds, 1]) } }],
    ["requestId", { ...signed, receipt: { ...signed.receipt, requestId: "req-124" } }],
    ["totalMs", { ...signed, receipt: { ...signed.receipt, totalMs: signed.receipt.totalMs + 1 } }],
    ["chainId", { ...signed, chainId: 1 }],
    ["signature", { ...signed, signature: `${signed.signature.slice(0, -4)}0000` as `0x${string}` }],
  ];
  for (const [what, receipt] of tampered) assert.equal((await verifyReceipt(receipt)).valid, false, what);
  assert.equal((await verifyReceipt(signed, { chainId: 1 })).valid, false);
  assert.equal((await verifyReceipt(signed, { expectedSigner: "0x000000000000000000000000000000000000dEaD" })).valid, false);
  assert.throws(() => parseSignedReceipt({ ...signed, receipt: { ...signed.receipt, outputTokens: -1 } }));
});

test("a receipt has one valid signature: its malleable twins and re-signing by another key fail", async () => {
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const r = signed.signature.slice(2, 66);
  const s = BigInt(`0x${signed.signature.slice(66, 130)}`);
  const v = Number.parseInt(signed.signature.slice(130), 16);
  const twinS = (n - s).toString(16).padStart(64, "0");
  const twinV = (v === 27 ? 28 : 27).toString(16);
  const twins: [string, `0x${string}`][] = [
    ["high s, flipped v", `0x${r}${twinS}${twinV}`],
    ["v as 0/1", `0x${r}${s.toString(16).padStart(64, "0")}${(v - 27).toString(16).padStart(2, "0")}`],
  ];
  for (const [what, signature] of twins) {
    const check = await verifyReceipt({ ...signed, signature }, { expectedSigner: service.account.address });
    assert.equal(check.valid, false, what);
  }
  // Another key signing the same work under its own address is self-consistent but is not
  // this node's receipt.
  const other = privateKeyToAccount(generatePrivateKey());
  const { node: _node, ...fields } = signed.receipt;
  const forged = await signReceipt(other, fields, signed.chainId);
  assert.equal((await verifyReceipt(forged)).valid, true);
  const check = await verifyReceipt(forged, { chainId: 31337, expectedSigner: service.account.address });
  assert.equal(check.valid, false);
});

test("keygen writes a 0600 key, refuses to overwrite, and loading refuses a readable key", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "pod-key-"));
  const file = path.join(dir, "sub", "node-key.json");
  const account = await generateKeyFile(file);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await loadKeyFile(file)).address, account.address);
  await assert.rejects(generateKeyFile(file), KeyError);
  await chmod(file, 0o644);
  await assert.rejects(loadKeyFile(file), (e: unknown) => e instanceof KeyError && /chmod 600/.test(e.message));
  const replaced = await generateKeyFile(file, { force: true });
  assert.notEqual(replaced.address, account.address);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  await assert.rejects(loadKeyFile(path.join(dir, "missing.json")), /keygen/);
});
