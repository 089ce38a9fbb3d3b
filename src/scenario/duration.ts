const DURATION = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)$/;

const MS_PER_UNIT: Record<string, number> = { ms: 1, s: 1_000, m: 60_000 };

/** The longest deadline a Node timer can hold; longer ones fire at once. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * Milliseconds (rounded to a whole number) for `"500ms"`, `"30s"`, `"1.5s"`, `"2m"`;
 * undefined when the text is not such a duration.
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const [, amount, unit] = match as unknown as [string, string, string];
  return Math.round(Number(amount) * (MS_PER_UNIT[unit] ?? 1));
}

/** Why a well-formed duration cannot be used as a deadline, or undefined when it can. */
export function durationRangeProblem(ms: number): string | undefined {
  if (ms < 1) return 'must be at least 1ms';
  if (ms > MAX_TIMEOUT_MS) return `must be at most ${MAX_TIMEOUT_MS}ms (about 24 days)`;
  return undefined;
}
