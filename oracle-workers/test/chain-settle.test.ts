/**
 * Settling an epoch's usage on a real CreditVault with grants signed by their accounts: settled
 * once (a re-run sends nothing), and a grant that would revert the batch (over its cap, expired,
 * short of credit) dropped by its decoded error while the rest settles.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { getAddress, parseEventLogs, type Hash, type LocalAccount } from "viem";
import { now } from "../../test/helpers/fixture.ts";
import { deployCredit, grantees, grantIdOf, grantTargetOf, signedGrants, USD, type Credit } from "../../test/helpers/credit.ts";
import type { EpochGrantUsage, EpochUsage } from "../../sdk/src/epochData.ts";
import { NotGrantGatewayError, settleEpochUsage, type SettleLogger } from "../src/chain/settle.ts";

const EPOCH = 3;
const CAP = 100n * USD;

describe("settling epoch usage", () => {
  let connection: NetworkConnection;
  let fixture: () => Promise<Credit>;
  let env: Credit;

  before(async () => {
    connection = await network.create();
    fixture = () => deployCredit(connection);
  });
  after(async () => {
    await connection.close();
  });
  beforeEach(async () => {
    env = await connection.networkHelpers.loadFixture(fixture);
  });

  /** Signed grants of `accounts` to the gateway (dave), each funded with `credit` dUSD by alice. */
  async function grantsOf(accounts: LocalAccount[], credit: bigint, expiry?: bigint): Promise<Omit<EpochGrantUsage, "cumulative">[]> {
    for (const account of accounts) {
      await env.creditVault.write.depositFor([account.address, env.usd.address, credit], { account: env.alice.account });
    }
    const signed = await signedGrants(grantTargetOf(env), accounts, CAP, expiry ?? (await now(connection)) + 30n * 86_400n);
    return signed.map(({ grant, signature }) => ({ grant, signature, grantId: grantIdOf(grant) }));
  }

  const usageOf = (entries: EpochGrantUsage[]): EpochUsage => ({ epoch: EPOCH, data: entries, unsettleable: [] });

  async function settledEvents(hashes: readonly Hash[]) {
    const logs = [];
    for (const hash of hashes) {
      const receipt = await env.publicClient.getTransactionReceipt({ hash });
      logs.push(...parseEventLogs({ abi: env.creditVault.abi, logs: receipt.logs, eventName: "UsageSettled" }));
    }
    return logs;
  }

  test("settles each grant once in one call; a re-run sends nothing", async () => {
    const grants = await grantsOf(grantees(3), 50n * USD);
    const usage = usageOf(grants.map((g, i) => ({ ...g, cumulative: BigInt(i + 1) * USD })));
    const first = await settleEpochUsage(env.dave, env.publicClient, env.vault, EPOCH, usage);
    assert.equal(first.txHashes.length, 1);
    assert.deepEqual(first.settled.map((s) => [s.grantId, s.cumulative]), grants.map((g, i) => [g.grantId, BigInt(i + 1) * USD]));
    assert.deepEqual([first.skipped, first.dropped], [0, []]);
    const events = await settledEvents(first.txHashes);
    assert.deepEqual(events.map((e) => [e.args.grantId, e.args.epoch, e.args.cumulativeSpent]), grants.map((g, i) => [g.grantId, BigInt(EPOCH), BigInt(i + 1) * USD]));
    for (const [i, g] of grants.entries()) assert.equal(await env.creditVault.read.spentOf([g.grantId]), BigInt(i + 1) * USD);

    const blockBefore = await env.publicClient.getBlockNumber();
    const again = await settleEpochUsage(env.dave, env.publicClient, env.vault, EPOCH, usage);
    assert.deepEqual(again, { settled: [], skipped: 3, dropped: [], txHashes: [] });
    assert.equal(await env.publicClient.getBlockNumber(), blockBefore);
  });

  test("over-cap, expired and unfunded grants are dropped with their decoded errors; the rest settles in batches", async () => {
    const [good1, good2, good3, overCap, poor, expiredAccount] = grantees(6) as [LocalAccount, LocalAccount, LocalAccount, LocalAccount, LocalAccount, LocalAccount];
    const valid = await grantsOf([good1, good2, good3, overCap], 50n * USD);
    const unfunded = await grantsOf([poor], 1n * USD);
    // Expired beyond the settlement grace (creditWithdrawalDelay) long ago.
    const expired = await grantsOf([expiredAccount], 50n * USD, (await now(connection)) - 365n * 86_400n);
    const entries: EpochGrantUsage[] = [
      { ...valid[0]!, cumulative: 10n * USD },
      { ...valid[3]!, cumulative: CAP + 1n },
      { ...valid[1]!, cumulative: 20n * USD },
      { ...unfunded[0]!, cumulative: 2n * USD },
      { ...expired[0]!, cumulative: 5n * USD },
      { ...valid[2]!, cumulative: 30n * USD },
    ];
    const warnings: string[] = [];
    const log: SettleLogger = (level, message, fields) => warnings.push(`${level} ${message} ${String(fields?.error)}`);
    const result = await settleEpochUsage(env.dave, env.publicClient, env.vault, EPOCH, usageOf(entries), { batchSize: 4, log });

    const byId = (g: { grantId: string }) => g.grantId;
    assert.deepEqual(result.settled.map(byId), [valid[0]!, valid[1]!, valid[2]!].map(byId));
    assert.equal(result.txHashes.length, 2);
    assert.deepEqual(result.dropped, [
      { grantId: valid[3]!.grantId, error: "GrantCapExceeded", args: [valid[3]!.grantId, CAP + 1n, CAP] },
      { grantId: unfunded[0]!.grantId, error: "InsufficientCredit", args: [getAddress(poor.address), getAddress(env.usd.address), 2n * USD, 1n * USD] },
      { grantId: expired[0]!.grantId, error: "GrantExpired", args: [expired[0]!.grantId, expired[0]!.grant.expiry] },
    ]);
    assert.deepEqual(warnings, ["GrantCapExceeded", "InsufficientCredit", "GrantExpired"].map((e) => `warn grant dropped from settlement ${e}`));
    assert.equal((await settledEvents(result.txHashes)).length, 3);
    assert.equal(await env.creditVault.read.spentOf([valid[3]!.grantId]), 0n);

    // The dropped stay dropped on a re-run; the settled are skipped.
    const again = await settleEpochUsage(env.dave, env.publicClient, env.vault, EPOCH, usageOf(entries), { batchSize: 4 });
    assert.deepEqual([again.settled, again.skipped, again.dropped.length, again.txHashes], [[], 3, 3, []]);
  });

  test("a wallet that is not the grants' gateway is refused before anything is sent", async () => {
    const grants = await grantsOf(grantees(1), 50n * USD);
    await assert.rejects(
      settleEpochUsage(env.alice, env.publicClient, env.vault, EPOCH, usageOf([{ ...grants[0]!, cumulative: USD }])),
      (error: unknown) => {
        assert.ok(error instanceof NotGrantGatewayError, String(error));
        assert.equal(error.gateway, env.g);
        return true;
      },
    );
  });
});
