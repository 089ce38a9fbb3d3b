import type { MailboxSettings } from '../mailbox/types.js';
import type { SourceIssue, SourcePos } from '../errors.js';
import type { TlsFiles } from '../smtp/certificate-files.js';
import type { AuthRequest } from '../smtp/auth.js';
import type { CapabilitySpec } from '../smtp/capabilities.js';
import type { IpFamily } from '../ip.js';
import type { MessageSource, RuntimeText } from '../smtp/message.js';

export type { AuthMechanism } from '../smtp/auth.js';
export type { CapabilitySpec, MessageSource, RuntimeText };

/**
 * Scenario files after loading, validation, interpolation and normalisation:
 * plain data, every shorthand expanded, every step tied to its source position.
 * The shapes as written in YAML live in `as-written.ts` and mirror the JSON schema.
 */

/** A server reached over TCP (the default kind). */
export interface TcpTarget {
  kind?: 'tcp';
  host: string;
  port: number;
  /** A display name from a manifest (`mx1`, or the domain an MX host was found for). */
  name?: string;
  /**
   * The host's addresses from a manifest's DNS server, connected to instead of asking the system
   * resolver; `host` stays the name (for TLS and reports).
   */
  addresses?: string[];
  /** The client's source address: `--local-address`, a manifest target's `local_address`. */
  localAddress?: string;
  /** IPv4 or IPv6 only: `-4` / `-6`, a manifest target's `family`. */
  family?: IpFamily;
  /** Set when a manifest domain has no usable MX, or a name does not resolve on its DNS server: every case on it fails with this reason, unconnected. */
  resolveError?: string;
  /**
   * For a host found for a mail domain (a manifest `domain:` target, or `--target` with a `mail_domain` scenario):
   * the domain, and the MX record's preference (none for the implicit MX). `wholeDomain`: the target is the domain
   * itself, for the cases that only ask DNS (MTA-STS, TLS-RPT): they run once for the domain and connect to nothing.
   */
  mx?: { domain: string; preference?: number; implicit?: true; wholeDomain?: true };
}

/** A server listening on a UNIX domain socket (common for LMTP into a mailbox server). */
export interface UnixTarget {
  kind: 'unix';
  path: string;
}

/** An MTA run as a child process speaking SMTP on its stdin/stdout (`sendmail -bs`); argv only, never a shell. */
export interface ExecTarget {
  kind: 'exec';
  argv: string[];
}

/**
 * Stands for a server known only at run time, in a plan that is shown (list, dry run) and never
 * run: the embedded server, every MX host of a manifest domain, or no server at all.
 */
export interface PlaceholderTarget {
  kind: 'placeholder';
  stands: 'embedded' | 'mx' | 'none';
  /** How it is shown: `MX of example.com (resolved at run time)`. */
  label: string;
  /** What is known of where it will be: the domain and port of an MX target, the embedded server's loopback address. */
  address?: { host: string; port: number };
}

/** Where to connect. */
export type ServerTarget = TcpTarget | UnixTarget | ExecTarget;

/** A server reached over TCP: the kind a target has when it names none. */
export function isTcpTarget(target: Target): target is TcpTarget {
  return target.kind === undefined || target.kind === 'tcp';
}

/** What a case is planned against: a server, or in a plan that is only shown, a placeholder. */
export type Target = ServerTarget | PlaceholderTarget;

/** How TLS is used and verified, for implicit TLS and for `starttls` steps. */
export interface TlsSettings {
  /** TLS from the first byte (RFC 8314, port 465), instead of only after a `starttls` step. */
  implicit: boolean;
  /** Verify the server's certificate chain and name. Off only when the file says `verify: false`. */
  verify: boolean;
  /** Extra trusted CA certificate files (absolute paths), added to the system CAs. */
  ca: string[];
  /** SNI and the name the certificate must match; default: the target host. */
  servername?: string;
  /** Client certificate and key files (absolute paths), for servers that require them. */
  cert?: string;
  key?: string;
  /** The material of those files, read once before the first session (set when a run is planned). */
  files?: TlsFiles;
}

/** A PROXY protocol header sent right after connecting (servers behind load balancers). */
export interface ProxySettings {
  version: 1 | 2;
  source: { host: string; port: number };
  /** Default: the target's address and port. */
  destination?: { host: string; port: number };
}

export type Protocol = 'smtp' | 'lmtp';

/** One alternative of a reply expectation: a code pattern and/or an enhanced status code pattern. */
export interface CodeAlternative {
  /** `250`, `25x`, `2xx`; undefined means any code. */
  code?: string;
  /** RFC 3463 pattern such as `5.1.1` or `5.1.x`; undefined means not checked. */
  enhanced?: string;
}

/** A regular expression on the reply text; `source` and `flags` as in `new RegExp(source, flags)`. */
export interface TextPattern {
  source: string;
  flags: string;
  /** How the user wrote it, for messages: `/ESMTP/i` or the plain substring. */
  written: string;
}

/** What a step expects of the reply it reads. All present parts must hold. */
export interface ReplyExpectation {
  /** Any one alternative must match; empty means any reply code is accepted. */
  anyOf: CodeAlternative[];
  text?: TextPattern;
}

export interface CapabilityCheck {
  has: CapabilitySpec[];
  lacks: CapabilitySpec[];
  /** As written, for messages: `has SIZE >= 10485760`. */
  written: string[];
}

/** When a step or case runs; otherwise it is reported as skipped with the reason. */
export type Condition =
  /** The last EHLO/LHLO reply of this session advertised it (a step-level condition only). */
  | { capability: CapabilitySpec; written: string }
  /** A variable is set to a non-empty value other than false/0/no, or equals the given value. */
  | { var: string; equals?: string; written: string }
  | { not: Condition; written: string };

/** TLS facts a step asserts about the current TLS session. */
export interface TlsAssertions {
  /** `TLSv1.2` or `TLSv1.3`: the negotiated protocol must be at least this. */
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** The certificate must be valid for this name (checked even when verification is off). */
  hostname?: string;
  /** The certificate must stay valid for at least this many days from now. */
  validForDays?: number;
  issuer?: TextPattern;
  subject?: TextPattern;
}

/** An `auth` step: one AUTH exchange (RFC 4954). */
export interface AuthAction extends AuthRequest {
  type: 'auth';
}

/** One command of a pipelined group with its own expectation. */
export interface PipelinedCommand {
  line: RuntimeText;
  expect?: ReplyExpectation;
  pos: SourcePos;
}

/** What a step does before reading its reply (or replies). */
export type StepAction =
  /** Only read a reply (the greeting, or an unsolicited reply). */
  | { type: 'read' }
  /** Send one command line; the engine appends CRLF. Never contains CR or LF. */
  | { type: 'send'; line: RuntimeText }
  /**
   * Send a message: after a 354 with DATA (LF → CRLF, dot-stuffing, `CRLF.CRLF`),
   * or with BDAT chunks of `bdatChunkBytes` (RFC 3030; no DATA command before it).
   */
  | { type: 'data'; source: MessageSource; bdatChunkBytes?: number }
  /** Send STARTTLS, expect 220, upgrade the connection, forget the capabilities (RFC 3207). */
  | { type: 'starttls' }
  | AuthAction
  /** Send every command in one write; read one reply per command, in order (RFC 2920). */
  | { type: 'pipeline'; commands: PipelinedCommand[] }
  /** Send exact bytes (escapes already decoded); a reply is read only when the step expects one. */
  | { type: 'raw'; bytes: Uint8Array; readReply: boolean }
  | MailboxAction
  | DnsCheckAction;

/**
 * An operator check beside the session (`fcrdns`, `dane`, `mta_sts`, `tls_rpt`, `dnsbl` steps): DNS
 * lookups on the run's resolver (`--dns-server`), and for MTA-STS the policy over HTTPS. Sends nothing
 * to the SMTP server and reads no reply from it.
 * - `fcrdns`: the address connected to, its PTR names, and the greeting (or EHLO) name among them.
 * - `dane`: the TLSA records of the target host and port against the chain of the current TLS session.
 * - `mta-sts` / `tls-rpt`: the records (and policy) of `domain`; default: the target's mail domain.
 * - `dnsbl`: `address` (default: the address connected to) on each list.
 */
export type DnsCheckSpec =
  | { check: 'fcrdns' }
  | { check: 'dane' }
  | { check: 'mta-sts'; domain?: string; policyPort?: number }
  | { check: 'tls-rpt'; domain?: string }
  | { check: 'dnsbl'; lists: string[]; address?: string };

export interface DnsCheckAction {
  type: 'dns';
  spec: DnsCheckSpec;
}

/** A header check of a mailbox step: present, absent, or one of its values matching a pattern. */
export interface HeaderCheck {
  name: string;
  /** false: the message must not have the header. */
  present: boolean;
  pattern?: TextPattern;
}

/** What a DSN must say (RFC 3464 per-recipient fields); all present parts must hold. */
export interface DsnCheck {
  action?: 'delivered' | 'failed' | 'delayed' | 'relayed' | 'expanded';
  status?: TextPattern;
  recipient?: TextPattern;
}

/**
 * A `mailbox` step: wait until the message is in the mailbox (or its DSN is), polling until the step's
 * deadline, then check it. Sends nothing to the SMTP server and reads no reply from it.
 */
export interface MailboxAction {
  type: 'mailbox';
  /** The name of one of the scenario's mailboxes. */
  mailbox: string;
  /** Where to look; undefined: INBOX and the junk folder. */
  folders?: string[];
  /** Which message; undefined: the one the case sent last, by its Message-ID. */
  find?: { messageId?: string; headers: HeaderCheck[] };
  /** Look for the DSN about the message the case sent last instead, with these checks. */
  dsn?: DsnCheck;
  expect: { folder?: string; headers: HeaderCheck[]; body?: TextPattern; maxSizeBytes?: number };
  /** Delete what was found. */
  remove: boolean;
}

/** A mailbox of the scenario's `mailboxes:`, with the CA files of an IMAP or POP3 server still to be read. */
export interface MailboxDefinition {
  name: string;
  pos: SourcePos;
  /** `ca` is empty here: the files are `caFiles`, read when the mailbox is opened. */
  settings: MailboxSettings | EmbeddedMailbox;
  caFiles: string[];
}

/** The embedded server's Maildir for a local part: a Maildir once `run --embedded` has started the server. */
export interface EmbeddedMailbox {
  kind: 'embedded';
  localPart: string;
}

export interface Step {
  /** 0-based position within its case. */
  index: number;
  pos: SourcePos;
  /** Optional label from the file (`name:`); reports fall back to a description of the action. */
  name?: string;
  action: StepAction;
  /** undefined: the reply is read but any reply code passes. For `data` under LMTP: applies to every reply. */
  expect?: ReplyExpectation;
  /** LMTP only: one expectation per accepted recipient, in RCPT order, for the replies after the final dot. */
  expectEach?: ReplyExpectation[];
  /** Capability assertions on this step's reply (an EHLO/LHLO reply). */
  capabilities?: CapabilityCheck;
  /** TLS assertions on the session after this step. */
  tls?: TlsAssertions;
  /** Variables taken from this step's reply: name → pattern (group 1, or the whole match). */
  capture?: { name: string; pattern: TextPattern }[];
  /** The reply must arrive within this many ms of the command being sent. */
  withinMs?: number;
  when?: Condition;
  /** Deadline for this step's reply. */
  timeoutMs: number;
}

export interface Case {
  /** 0-based position within its file. */
  index: number;
  name: string;
  pos: SourcePos;
  /** The file's tags and the case's own, for `--tag`. */
  tags: string[];
  /** Only variable conditions: capabilities are unknown before the session starts. */
  when?: Condition;
  /** The variables visible in this case, resolved (command line > case > file), for `when: { var }`. */
  vars: Record<string, string>;
  steps: Step[];
}

export interface Scenario {
  /** The path as the user gave it (relative paths stay relative: reports show them). */
  file: string;
  name: string;
  /** The file's own target; `--target` or `--embedded` override it. */
  target?: ServerTarget;
  /**
   * `mail_domain: true`: the target names a mail domain. Its cases run against each of the domain's MX
   * hosts (or the domain itself without MX, RFC 5321 §5.1); a case that only asks DNS runs once for the domain.
   */
  mailDomain?: boolean;
  protocol: Protocol;
  tls: TlsSettings;
  proxy?: ProxySettings;
  /** Deadline for connecting and for each reply when a step sets none. */
  timeoutMs: number;
  cases: Case[];
  /** The files its `include:` steps read, as they are shown (a run must never write over them). */
  includes?: string[];
  /** Values that must never appear in any output (from `${env:…}`, AUTH credentials). */
  secrets: string[];
  /** Problems worth a word that do not stop the file from running (e.g. no EHLO after STARTTLS). */
  warnings: SourceIssue[];
  /** The mailboxes its mailbox steps look in, by name (`mailboxes:`). */
  mailboxes?: Record<string, MailboxDefinition>;
}

/** The default deadline for each reply (and for connecting), 30 s. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** The SMTP port used when a target names none. */
export const DEFAULT_PORT = 25;
/** BDAT chunk size when a step asks for BDAT without naming one. */
export const DEFAULT_BDAT_CHUNK_BYTES = 64 * 1024;
