import type { CaseResult } from '../engine/results.js';

/**
 * The phases of one case's session, in milliseconds, read from its results alone (for the monitoring outputs):
 * - connect: from the session's start to the connection: the transcript's first note, when the server then
 *   sent something (a session that never connected notes its failure instead); name resolution and an implicit
 *   TLS handshake included;
 * - greeting: from the connection to the first line of the greeting;
 * - tls: the STARTTLS handshake: the step that established TLS (it sent a command and holds TLS facts),
 *   its duration less the wait for its reply;
 * - transaction: the whole case, from the session's start to its end.
 * A phase the session never reached is absent.
 */
export interface SessionTimings {
  connectMs?: number;
  greetingMs?: number;
  tlsMs?: number;
  transactionMs: number;
}

export function sessionTimings(item: CaseResult): SessionTimings {
  const timings: SessionTimings = { transactionMs: item.durationMs };
  const firstServerLine = item.transcript.findIndex((entry) => entry.dir === 'S');
  const greeting = item.transcript[firstServerLine];
  if (!greeting) return timings;
  const connected = item.transcript.slice(0, firstServerLine).find((entry) => entry.dir === '*');
  if (connected) timings.connectMs = connected.atMs;
  timings.greetingMs = Math.max(0, greeting.atMs - (connected?.atMs ?? 0));
  const handshake = item.steps.find((step) => step.tls !== undefined && step.sent !== undefined);
  if (handshake) timings.tlsMs = Math.max(0, handshake.durationMs - (handshake.latencyMs ?? 0));
  return timings;
}

/** The certificate's end of validity in ms since the epoch, when the case had a TLS session and the date reads. */
export function certificateNotAfterMs(item: CaseResult): number | undefined {
  if (!item.tls) return undefined;
  const at = Date.parse(item.tls.validTo);
  return Number.isFinite(at) ? at : undefined;
}
