/**
 * The README's inference example, run for real: an SDK client deposits credit and issues an API
 * key, the official `openai` client chats through a real gateway (with a real worker node on the
 * tiny model) with that key, and once the key is revoked through the SDK the gateway refuses it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { createPodClient, podContractsFromDevnet } from "../src/client.ts";
import { TINY } from "../../node/test/fixtures.ts";
import { startGateway, USD, type TestGateway } from "../../gateway/test/fixtures.ts";
import { devnetContracts } from "./actionsFixture.ts";

let gw: TestGateway;

before(async () => {
  gw = await startGateway();
  await gw.startNode(gw.core.bob);
});
after(async () => {
  await gw.close();
});

test("credit and a key made by the SDK pay for a chat through the gateway with the openai client; a revoked key is refused", async () => {
  const { core } = gw;
  const pod = createPodClient({ publicClient: core.publicClient, walletClient: core.alice, deployment: podContractsFromDevnet(devnetContracts(core)) });
  const usd = pod.contracts.stablecoin;
  assert.ok(usd !== undefined);
  await core.stablecoin.write.mint([core.alice.account.address, 10n * USD]);
  await pod.depositCredit({ asset: usd, amount: 10n * USD });
  const { apiKey } = await pod.issueApiKey({ gateway: gw.gateway, asset: usd, cap: 5n * USD });

  const openai = new OpenAI({ baseURL: gw.baseURL, apiKey, maxRetries: 0, timeout: 30_000 });
  const answer = await openai.chat.completions.create({ model: TINY, messages: [{ role: "user", content: "Hello" }], max_tokens: 4, temperature: 0 });
  assert.equal(answer.model, TINY);
  assert.ok((answer.usage?.completion_tokens ?? 0) > 0);
  assert.equal(typeof answer.choices[0]?.message.content, "string");

  await pod.revokeApiKey({ apiKey });
  await assert.rejects(openai.chat.completions.create({ model: TINY, messages: [{ role: "user", content: "Again" }], max_tokens: 2 }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.APIError, String(error));
    assert.deepEqual([error.status, error.code], [401, "key_revoked"]);
    return true;
  });
});
