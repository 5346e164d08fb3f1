import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { renderAbis } from "../../scripts/abis.ts";
import { creditVaultAbi, rewardsDistributorAbi } from "../src/abi/contracts.ts";

test("the committed ABIs match the build artifacts (run npm run abis after changing a contract)", () => {
  for (const [file, rendered] of Object.entries(renderAbis())) {
    const committed = readFileSync(new URL(`../src/abi/${file}`, import.meta.url), "utf8");
    assert.equal(committed, rendered, `sdk/src/abi/${file} is stale`);
  }
});

test("the ABIs carry the custom errors that clients decode", () => {
  const errors = (abi: readonly { type: string; name?: string }[]) => abi.filter((e) => e.type === "error").map((e) => e.name);
  assert.ok(errors(creditVaultAbi).includes("GrantCapExceeded"));
  assert.ok(errors(rewardsDistributorAbi).includes("InvalidProof"));
});
