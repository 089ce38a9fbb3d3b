import type { Shard } from '../engine/shard-spec.js';
import type { IpFamily } from '../ip.js';

/** The commands as parsed from the command line: plain data, one shape per command. */

export type StdoutReporter = 'console' | 'tap' | 'junit' | 'json' | 'nagios';

export interface RunCommand {
  command: 'run';
  paths: string[];
  /** `--check` names: ready-made checks from scenarios/checks/, run as if their files were given. */
  checks: string[];
  /** `--target` values: one server for scenario files; target names or tags for a manifest. */
  targets: string[];
  embedded: boolean;
  timeoutMs?: number;
  vars: Record<string, string>;
  /** `--secret`: names of variables and environment variables whose values are masked wherever they are used. */
  secrets: string[];
  /** Extra trusted CA files for TLS (`--ca`), added to every file's own. */
  ca: string[];
  /** `--include-root DIR`: included files may be anywhere under DIR, not only under each scenario file's folder. */
  includeRoot?: string;
  reporter: StdoutReporter;
  junitFile?: string;
  tapFile?: string;
  jsonFile?: string;
  /** `--html FILE`: a self-contained page for people. */
  htmlFile?: string;
  /** `--openmetrics FILE`: metrics for node_exporter's textfile collector. */
  openmetricsFile?: string;
  /** `--warn-days` / `--crit-days`: certificate days left below which `--reporter nagios` says WARNING / CRITICAL. */
  warnDays: number;
  critDays: number;
  junitGranularity: 'case' | 'step';
  /** false with --no-color; otherwise colour follows the terminal and NO_COLOR. */
  color: boolean;
  concurrency: number;
  perHost: number;
  grep?: RegExp;
  tags: string[];
  bail: boolean;
  retries: number;
  shard?: Shard;
  dnsServer?: { host: string; port: number };
  /** `--local-address`: the client's source address for TCP targets. */
  localAddress?: string;
  /** `-4` / `-6`: IPv4 or IPv6 only. */
  family?: IpFamily;
  /** The longest reply line accepted, in bytes (`--max-reply-line`). */
  maxReplyLineBytes?: number;
  /** `--dry-run`: print what would be sent, connect to nothing. */
  dryRun?: boolean;
  /** `--verbose`: the live transcript on stderr. */
  verbose?: boolean;
}

export interface ValidateCommand {
  command: 'validate';
  paths: string[];
  vars: Record<string, string>;
  ca: string[];
  /** `--include-root DIR`: included files may be anywhere under DIR, not only under each scenario file's folder. */
  includeRoot?: string;
}

/** `smtpspec exporter`: probes over HTTP, in the multi-target style of blackbox_exporter. */
export interface ExporterCommand {
  command: 'exporter';
  host: string;
  port: number;
  /** `--scenarios DIR`: the folder `?scenario=` names files in. */
  scenariosDir?: string;
  vars: Record<string, string>;
  ca: string[];
  /** `--dns-server`: where mail domains and DNS checks are looked up. */
  dnsServer?: { host: string; port: number };
}

export interface ServeCommand {
  command: 'serve';
  host: string;
  port: number;
  domain?: string;
  /** `--mail-root DIR`: where accepted mail is delivered (kept); without it, a temporary folder removed at the end. */
  mailRoot?: string;
}

export interface ChecksCommand {
  command: 'checks';
}

export interface MergeCommand {
  command: 'merge';
  paths: string[];
  junitFile?: string;
  jsonFile?: string;
  tapFile?: string;
  htmlFile?: string;
}

export interface ListCommand {
  command: 'list';
  paths: string[];
  targets: string[];
  vars: Record<string, string>;
  /** `--secret`: as for run. */
  secrets: string[];
  ca: string[];
  /** `--include-root DIR`: included files may be anywhere under DIR, not only under each scenario file's folder. */
  includeRoot?: string;
  grep?: RegExp;
  tags: string[];
}

export interface InitCommand {
  command: 'init';
  /** Where to write; default smtpspec.yaml, or fleet.yaml with --manifest. */
  file: string;
  manifest: boolean;
  /** `--target`: written as the file's target (the manifest's first target). */
  target?: string;
  force: boolean;
}

export interface RecordCommand {
  command: 'record';
  /** The server, and `host:port` as the file will name it. */
  host: string;
  port: number;
  /** Where the scenario goes; `-` is standard output (`--stdout`). */
  output: string;
  force: boolean;
  loose: boolean;
  timeoutMs?: number;
  /** `--timeout` as written, for the file. */
  timeoutText?: string;
  ca: string[];
  insecure: boolean;
  /** false with --no-color; otherwise colour follows the terminal and NO_COLOR. */
  color: boolean;
}

/** `smtpspec mx DOMAIN…`: the ready-made checks against every MX host of each domain, as one table. */
export interface MxCommand {
  command: 'mx';
  domains: string[];
  /** `--check` names; none: every ready-made check. */
  checks: string[];
  /** `--port`: where each MX host is connected to (default 25). */
  port: number;
  dnsServer?: { host: string; port: number };
  timeoutMs?: number;
  vars: Record<string, string>;
  ca: string[];
  /** `--json FILE`: the table as JSON. */
  jsonFile?: string;
  /** `--junit FILE`: the checks' cases as JUnit XML. */
  junitFile?: string;
}

/** Help or version was printed; nothing else to do. */
export interface DoneCommand {
  command: 'done';
}

/** `send --expect STEP=…`: the steps a one-off can hold to an expectation. */
export type SendExpectStep = 'greeting' | 'ehlo' | 'tls' | 'auth' | 'mail' | 'rcpt' | 'data';

/** Where `send --quit-after` stops with QUIT: after the greeting, the first EHLO, STARTTLS, the last EHLO, AUTH, MAIL or the RCPTs. */
export type SendQuitPoint = 'banner' | 'first-ehlo' | 'tls' | 'ehlo' | 'auth' | 'mail' | 'rcpt';

export interface SendCommand {
  command: 'send';
  /** `--server HOST[:PORT]` (with `--port`); absent: the MX of the first recipient's domain, a socket, a pipe or the embedded server. */
  server?: { host: string };
  /** From `--server HOST:PORT` or `--port`; default 25, 465 with implicit TLS, 24 for LMTP. */
  port?: number;
  /** `--socket PATH`: a UNIX socket. */
  socket?: string;
  /** `--pipe CMD`: a child process speaking SMTP on stdin/stdout, as argv (no shell). */
  pipe?: string[];
  /** `--embedded`: the embedded server, started for this transaction. */
  embedded: boolean;
  /** `--dns-server`: where the MX of the first recipient's domain is looked up. */
  dnsServer?: { host: string; port: number };
  to: string[];
  from?: string;
  helo?: string;
  tls: 'none' | 'starttls' | 'optional' | 'implicit';
  /** false with `--no-tls-verify`. */
  verify: boolean;
  ca: string[];
  auth?: { mechanism: 'PLAIN' | 'LOGIN' | 'CRAM-MD5' | 'XOAUTH2'; user: string };
  /** `--auth-password`, given on the command line (it lands in the shell's history). */
  authPassword?: string;
  headers: { name: string; value: string }[];
  body?: string;
  /** `--data FILE`: the whole message from a file. */
  data?: string;
  attach: string[];
  pipeline: boolean;
  quitAfter?: SendQuitPoint;
  localAddress?: string;
  family?: IpFamily;
  /** `--timeout`, as written for the scenario (`30s`). */
  timeout?: string;
  dsn: { notify?: ('NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY')[]; ret?: 'FULL' | 'HDRS'; envid?: string; orcpt?: string };
  protocol: 'smtp' | 'lmtp';
  /** `--expect STEP=…`: reply codes (`550 5.1.1`, `5xx`) and `/regex/` text patterns per step. */
  expect: Partial<Record<SendExpectStep, { codes: string[]; texts: string[] }>>;
  /** `--save FILE`: the equivalent scenario is written there. */
  save?: string;
  force: boolean;
  printSwaks: boolean;
}

export type Command = ExporterCommand | SendCommand | RunCommand | ValidateCommand | ServeCommand | MergeCommand | ChecksCommand | ListCommand | InitCommand | RecordCommand | MxCommand | DoneCommand;
