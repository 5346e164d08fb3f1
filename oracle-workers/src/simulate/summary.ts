/**
 * `simulate --summary`: the run as plain-text tables for people (governance trying parameters):
 * one row per epoch (multipliers, validators, competition on/off), then each account's next
 * multiplier per epoch.
 */
import type { RewardParams } from "../../../sdk/src/rewardParams.ts";
import { PPM } from "../../../sdk/src/rewardParams.ts";
import type { SimulatedEpoch } from "./run.ts";

const MAX_ACCOUNT_ROWS = 50;
const MAX_EPOCH_COLUMNS = 12;

function multiplier(ppm: number): string {
  return `${(ppm / PPM).toFixed(4)}x`;
}

/** Wei as POD with up to 4 decimals (truncated; display only). */
function pod(wei: bigint): string {
  const whole = wei / 10n ** 18n;
  const fraction = ((wei % 10n ** 18n) / 10n ** 14n).toString().padStart(4, "0").replace(/0+$/, "");
  return fraction === "" ? whole.toString() : `${whole}.${fraction}`;
}

function shortAddress(account: string): string {
  return `${account.slice(0, 6)}…${account.slice(-4)}`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function competitionCell(epoch: SimulatedEpoch, params: RewardParams): string {
  const { on, size, scale } = epoch.competition;
  if (on && scale !== undefined) {
    return `on  |O|=${size} K=${scale.K} L=${scale.L.toFixed(2)}w H=${scale.H.toFixed(2)}w`;
  }
  if (size < params.compMinAccounts) return `off |O|=${size} < ${params.compMinAccounts}`;
  return `off sum(E) < ${pod(params.compMinTotalEarnings)} POD`;
}

function median(sorted: readonly number[]): number {
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? PPM;
}

export function renderSummary(epochs: readonly SimulatedEpoch[], params: RewardParams): string {
  const epochRows = epochs.map((epoch, i) => {
    const next = epoch.outcomes.map((o) => o.nextMultiplierPpm).sort((a, b) => a - b);
    let rewards = 0n;
    for (const o of epoch.outcomes) rewards += o.reward;
    return [
      String(i + 1),
      String(epoch.outcomes.length),
      String(epoch.outcomes.filter((o) => o.boostEligible).length),
      String(epoch.outcomes.filter((o) => o.validator).length),
      competitionCell(epoch, params),
      next.length === 0
        ? "-"
        : `${multiplier(next[0]!)} / ${multiplier(median(next))} / ${multiplier(next[next.length - 1]!)}`,
      pod(rewards),
      `${epoch.root.slice(0, 10)}…`,
    ];
  });
  const parts = [
    `Epochs (${params.epochHours}h each)`,
    table(
      ["epoch", "accounts", "eligible", "validators", "competition", "next multiplier min / median / max", "rewards POD", "root"],
      epochRows,
    ),
  ];

  const last = epochs.at(-1);
  if (last !== undefined && last.outcomes.length > 0) {
    const firstShown = Math.max(0, epochs.length - MAX_EPOCH_COLUMNS);
    const shown = epochs.slice(firstShown);
    const accounts = last.outcomes.slice(0, MAX_ACCOUNT_ROWS).map((o) => o.account);
    // Outcomes list accounts in order of first appearance, so an account keeps its index in every
    // epoch from its first one on.
    const rows = accounts.map((account, index) => [
      shortAddress(account),
      ...shown.map((epoch) => {
        const o = epoch.outcomes[index];
        if (o === undefined) return "";
        const marks = `${o.validator ? "V" : ""}${o.inCompetitiveSet && epoch.competition.on ? "*" : ""}`;
        return `${multiplier(o.nextMultiplierPpm)}${marks}`;
      }),
      pod(last.outcomes[index]?.cumulativeReward ?? 0n),
    ]);
    parts.push(
      "",
      "Next multiplier per account (V = validator, * = competing)",
      table(["account", ...shown.map((_, i) => `e${firstShown + i + 1}`), "cumulative POD"], rows),
    );
    if (last.outcomes.length > accounts.length || firstShown > 0) {
      parts.push(`(showing ${accounts.length} of ${last.outcomes.length} accounts, epochs ${firstShown + 1}-${epochs.length})`);
    }
  }
  return `${parts.join("\n")}\n`;
}
