import type { DnsServer } from '../dns/types.js';
import type { SmtpConnection } from '../smtp/client.js';
import type { Transcript } from '../smtp/transcript.js';
import type { Scenario, ServerTarget } from '../scenario/types.js';
import type { SessionState } from './session-state.js';

/** Everything a step's action needs; the action changes `state` as the protocol says. */
export interface StepContext {
  /** The SMTP session; absent in a case that only asks DNS (see isSessionless). */
  conn?: SmtpConnection;
  scenario: Scenario;
  target: ServerTarget;
  state: SessionState;
  /** The case's transcript, for steps that talk to something other than the SMTP server (a mailbox). */
  transcript?: Transcript;
  /** Aborted when the run is interrupted. */
  signal?: AbortSignal;
  /** The resolver of DNS check steps; default: the system's first name server. */
  dnsServer?: DnsServer;
}
