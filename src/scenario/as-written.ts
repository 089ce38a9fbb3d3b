import type { DsnNotify, DsnReturn, MailBody } from '../smtp/mail-params.js';
import type { AuthMechanism, TlsAssertions } from './types.js';
import type { MailboxAsWritten, MailboxStepAsWritten } from './as-written-mailboxes.js';
import type { KeyTable } from './key-table.js';

/**
 * Scenario files as written in YAML, after the JSON schema has accepted them.
 * These types mirror schema/scenario.schema.json; the key tables below make the
 * compiler list every key, and a test compares them with the schema.
 */

/** What a file is: a scenario, or a file of steps that scenarios include. */
export type FileRoot = 'scenario' | 'steps';

/** A variable's value; numbers and booleans become text. */
export type VarValueAsWritten = string | number | boolean;

export type VarsAsWritten = Record<string, VarValueAsWritten>;

/** `250`, `"2xx"`, `"550 5.1.1"`, `"5.7.1"`. */
export type ExpectCodeAsWritten = number | string;

/** One alternative or a non-empty list of them (any one may match). */
export type ExpectAsWritten = ExpectCodeAsWritten | ExpectCodeAsWritten[];

/** Exactly one of host (with an optional port), socket and exec. */
export interface TargetMapAsWritten {
  host?: string;
  port?: number;
  socket?: string;
  exec?: string[];
}

/** `"host"`, `"host:port"`, `"[::1]:25"`, or a map. */
export type TargetAsWritten = string | TargetMapAsWritten;

export interface TlsMapAsWritten {
  implicit?: boolean;
  verify?: boolean;
  ca?: string | string[];
  servername?: string;
  cert?: string;
  key?: string;
}

/** `"implicit"` is short for `{ implicit: true }`. */
export type TlsAsWritten = 'implicit' | TlsMapAsWritten;

export interface ProxyAsWritten {
  version?: 1 | 2;
  /** `ip:port` or `[ipv6]:port`. */
  source: string;
  destination?: string;
}

/** Exactly one of capability, var and not; equals only with var. */
export interface ConditionAsWritten {
  capability?: string;
  var?: string;
  equals?: VarValueAsWritten;
  not?: ConditionAsWritten;
}

export interface TlsAssertionsAsWritten {
  min_version?: NonNullable<TlsAssertions['minVersion']>;
  valid_for_days?: number | string;
  hostname?: string;
  issuer?: string;
  subject?: string;
}

export interface AuthAsWritten {
  mechanism: AuthMechanism;
  username: string;
  password?: string;
  token?: string;
  authzid?: string;
  initial_response?: boolean;
  cancel?: boolean;
}

export interface PipelineCommandAsWritten {
  send: string;
  expect?: ExpectAsWritten;
  text?: string;
}

export interface MailMapAsWritten {
  from: string;
  size?: number;
  body?: MailBody;
  smtputf8?: boolean;
  ret?: DsnReturn;
  envid?: string;
}

export interface RcptMapAsWritten {
  to: string;
  notify?: DsnNotify[];
  orcpt?: string;
}

export interface AttachmentAsWritten {
  file: string;
  filename?: string;
  content_type?: string;
}

/** Either file, or any of headers, body and attachments. */
export interface DataMapAsWritten {
  file?: string;
  headers?: Record<string, VarValueAsWritten>;
  body?: string;
  attachments?: AttachmentAsWritten[];
}

export interface CapabilitiesAsWritten {
  has?: string[];
  lacks?: string[];
}

/** Name → `/regex/flags`. */
export type CaptureAsWritten = Record<string, string>;

export interface StepAsWritten {
  name?: string;
  /** The path of a file of steps to insert here, relative to this file; alone in its step. */
  include?: string;
  send?: string;
  data?: string | DataMapAsWritten;
  starttls?: true;
  auth?: AuthAsWritten;
  pipeline?: PipelineCommandAsWritten[];
  raw?: string;
  mail?: string | MailMapAsWritten;
  rcpt?: string | RcptMapAsWritten;
  mailbox?: MailboxStepAsWritten;
  fcrdns?: true;
  dane?: true;
  mta_sts?: true | { domain?: string; policy_port?: number | string };
  tls_rpt?: true | { domain?: string };
  dnsbl?: { lists: string[] | string; address?: string };
  /** A chunk size in bytes, or true for the default size. */
  bdat?: number | boolean;
  expect?: ExpectAsWritten;
  expect_each?: ExpectAsWritten[];
  text?: string;
  /** A duration such as `"500ms"`, `"30s"`, `"2m"`. */
  timeout?: string;
  within?: string;
  capabilities?: CapabilitiesAsWritten;
  capture?: CaptureAsWritten;
  tls?: TlsAssertionsAsWritten;
  when?: ConditionAsWritten;
}

export interface CaseAsWritten {
  name: string;
  tags?: string[];
  timeout?: string;
  vars?: VarsAsWritten;
  when?: ConditionAsWritten;
  steps: StepAsWritten[];
}

export interface ScenarioFile {
  name?: string;
  description?: string;
  tags?: string[];
  target?: TargetAsWritten;
  mail_domain?: boolean;
  protocol?: 'smtp' | 'lmtp';
  tls?: TlsAsWritten;
  proxy?: ProxyAsWritten;
  timeout?: string;
  vars?: VarsAsWritten;
  /** Names of variables and environment variables whose values are secret: masked wherever they are used. */
  secrets?: string[];
  mailboxes?: Record<string, MailboxAsWritten>;
  cases: CaseAsWritten[];
}

/** A file of steps that scenarios include (schema/steps.schema.json). */
export interface IncludedFileAsWritten {
  description?: string;
  vars?: VarsAsWritten;
  steps: StepAsWritten[];
}

export type { KeyTable };

export const scenarioFileKeys: KeyTable<ScenarioFile> = {
  name: 'optional',
  description: 'optional',
  tags: 'optional',
  target: 'optional',
  mail_domain: 'optional',
  protocol: 'optional',
  tls: 'optional',
  proxy: 'optional',
  timeout: 'optional',
  vars: 'optional',
  secrets: 'optional',
  mailboxes: 'optional',
  cases: 'required',
};

export const includedFileKeys: KeyTable<IncludedFileAsWritten> = {
  description: 'optional',
  vars: 'optional',
  steps: 'required',
};

export const caseKeys: KeyTable<CaseAsWritten> = {
  name: 'required',
  tags: 'optional',
  timeout: 'optional',
  vars: 'optional',
  when: 'optional',
  steps: 'required',
};

export const stepKeys: KeyTable<StepAsWritten> = {
  name: 'optional',
  include: 'optional',
  send: 'optional',
  data: 'optional',
  starttls: 'optional',
  auth: 'optional',
  pipeline: 'optional',
  raw: 'optional',
  mail: 'optional',
  rcpt: 'optional',
  mailbox: 'optional',
  fcrdns: 'optional',
  dane: 'optional',
  mta_sts: 'optional',
  tls_rpt: 'optional',
  dnsbl: 'optional',
  bdat: 'optional',
  expect: 'optional',
  expect_each: 'optional',
  text: 'optional',
  timeout: 'optional',
  within: 'optional',
  capabilities: 'optional',
  capture: 'optional',
  tls: 'optional',
  when: 'optional',
};

/** The keys that make a step do something; a step has at most one. */
export const ACTION_KEYS = ['send', 'data', 'starttls', 'auth', 'pipeline', 'raw', 'mail', 'rcpt', 'mailbox', 'fcrdns', 'dane', 'mta_sts', 'tls_rpt', 'dnsbl'] as const satisfies readonly (keyof StepAsWritten)[];

/** The keys that check a reply; a step without an action needs one of them. */
export const CHECK_KEYS = ['expect', 'text', 'capture', 'capabilities', 'tls', 'within'] as const satisfies readonly (keyof StepAsWritten)[];

export const targetKeys: KeyTable<TargetMapAsWritten> = {
  host: 'optional',
  port: 'optional',
  socket: 'optional',
  exec: 'optional',
};

export const tlsKeys: KeyTable<TlsMapAsWritten> = {
  implicit: 'optional',
  verify: 'optional',
  ca: 'optional',
  servername: 'optional',
  cert: 'optional',
  key: 'optional',
};

export const proxyKeys: KeyTable<ProxyAsWritten> = {
  version: 'optional',
  source: 'required',
  destination: 'optional',
};

export const conditionKeys: KeyTable<ConditionAsWritten> = {
  capability: 'optional',
  var: 'optional',
  equals: 'optional',
  not: 'optional',
};

export const tlsAssertionKeys: KeyTable<TlsAssertionsAsWritten> = {
  min_version: 'optional',
  valid_for_days: 'optional',
  hostname: 'optional',
  issuer: 'optional',
  subject: 'optional',
};

export const authKeys: KeyTable<AuthAsWritten> = {
  mechanism: 'required',
  username: 'required',
  password: 'optional',
  token: 'optional',
  authzid: 'optional',
  initial_response: 'optional',
  cancel: 'optional',
};

export const pipelineCommandKeys: KeyTable<PipelineCommandAsWritten> = {
  send: 'required',
  expect: 'optional',
  text: 'optional',
};

export const mailKeys: KeyTable<MailMapAsWritten> = {
  from: 'required',
  size: 'optional',
  body: 'optional',
  smtputf8: 'optional',
  ret: 'optional',
  envid: 'optional',
};

export const rcptKeys: KeyTable<RcptMapAsWritten> = {
  to: 'required',
  notify: 'optional',
  orcpt: 'optional',
};

export const dataKeys: KeyTable<DataMapAsWritten> = {
  file: 'optional',
  headers: 'optional',
  body: 'optional',
  attachments: 'optional',
};

export const attachmentKeys: KeyTable<AttachmentAsWritten> = {
  file: 'required',
  filename: 'optional',
  content_type: 'optional',
};

export const capabilitiesKeys: KeyTable<CapabilitiesAsWritten> = {
  has: 'optional',
  lacks: 'optional',
};
