/** Pure stop-sequence handling for streamed text. */

/** Index of the earliest stop sequence in `text` at or after `from`, or -1. */
export function findStop(text: string, stops: readonly string[], from: number): number {
  let earliest = -1;
  for (const stop of stops) {
    const at = text.indexOf(stop, Math.max(0, from));
    if (at >= 0 && (earliest < 0 || at < earliest)) earliest = at;
  }
  return earliest;
}

/** How many trailing characters could be the start of a stop sequence (held back from streaming). */
export function heldBackLength(text: string, stops: readonly string[]): number {
  let held = 0;
  for (const stop of stops) {
    for (let n = Math.min(stop.length - 1, text.length); n > held; n--) {
      if (text.endsWith(stop.slice(0, n))) {
        held = n;
        break;
      }
    }
  }
  return held;
}
