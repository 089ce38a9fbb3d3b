import { yaml } from '../yaml-lib.js';
import type { Reply } from '../smtp/types.js';
import type { RecordedStep } from './steps.js';

/** A recorded session as a scenario file: header comments, then YAML the loader reads back. */

export interface ScenarioSettings {
  /** `host:port` as written in the file. */
  target: string;
  /** The host alone, for the case name. */
  host: string;
  /** Reply classes (`2xx`, `5.1.x`) instead of exact codes. */
  loose: boolean;
  /** Written as the file's `timeout` when given on the command line. */
  timeout?: string;
  /** TLS settings for the file, written only when the session used STARTTLS. */
  tls?: { verify: false } | { ca: string[] };
  /** When the session was recorded. */
  date: Date;
  /** The `$schema` reference for editors, relative to the file's folder. */
  schema?: string;
}

export const USER_VARIABLE = 'SMTP_USER';
export const PASSWORD_VARIABLE = 'SMTP_PASSWORD';
export const TOKEN_VARIABLE = 'SMTP_TOKEN';

type YamlValue = string | number | boolean | YamlValue[] | { [key: string]: YamlValue };
type YamlMap = { [key: string]: YamlValue };

/** `250`, `550 5.1.1`; loose: `2xx`, `5xx 5.1.x`. Undefined for a code no expectation can name. */
export function expectationOf(reply: Reply, loose: boolean): string | number | undefined {
  if (reply.code < 200 || reply.code > 599) return undefined;
  const code = loose ? `${String(reply.code)[0]}xx` : reply.code;
  if (!reply.enhanced) return code;
  const enhanced = loose ? reply.enhanced.replace(/\.\d+$/, '.x') : reply.enhanced;
  return `${code} ${enhanced}`;
}

/** Text the user typed, kept literal: `${` would otherwise start a variable on replay. */
export function literal(text: string): string {
  return text.replace(/\$\{/g, () => '$${');
}

/** The message as a `data` value: its lines, each ended by a newline. */
export function messageText(lines: string[]): string {
  return lines.map((line) => `${line}\n`).join('');
}

/** The credentials of an `auth` step, read from the environment on replay: `${env:SMTP_USER}`, `${env:SMTP_PASSWORD}` (or SMTP_TOKEN). */
export function authCredentials(mechanism: string): { username: string; password?: string; token?: string } {
  const username = `\${env:${USER_VARIABLE}}`;
  return mechanism === 'XOAUTH2' ? { username, token: `\${env:${TOKEN_VARIABLE}}` } : { username, password: `\${env:${PASSWORD_VARIABLE}}` };
}

/** A scenario document as YAML text: long lines kept whole, multi-line text as literal blocks. */
export function yamlText(document: unknown): string {
  return yaml.stringify(document, { lineWidth: 0, blockQuote: 'literal' });
}

/** The comment lines that open a written scenario: the `$schema` line for editors, where it came from, the variables a replay needs. */
export function headerLines(schema: string | undefined, origin: string, needed: string[]): string[] {
  const lines = schema ? [`# yaml-language-server: $schema=${schema}`, '#'] : [];
  lines.push(origin);
  if (needed.length > 0) {
    lines.push(`# The AUTH step reads the credentials from the environment: set ${needed.join(' and ')} before running it.`);
  }
  return lines;
}

function authMap(step: Extract<RecordedStep, { kind: 'auth' }>): YamlMap {
  const map: YamlMap = { mechanism: step.mechanism, ...authCredentials(step.mechanism) };
  // Written only where it differs from the mechanism's default.
  const defaultInitial = step.mechanism === 'PLAIN' || step.mechanism === 'XOAUTH2';
  if (step.mechanism !== 'CRAM-MD5' && step.initialResponse !== defaultInitial) map.initial_response = step.initialResponse;
  if (step.cancel) map.cancel = true;
  return map;
}

function stepMap(step: RecordedStep, loose: boolean): YamlMap {
  const map: YamlMap = {};
  switch (step.kind) {
    case 'greeting':
      break;
    case 'send':
      map.send = literal(step.line);
      break;
    case 'starttls':
      map.starttls = true;
      // The step expects 220 by default.
      if (step.reply.code === 220) return map;
      break;
    case 'data':
      map.data = literal(messageText(step.lines));
      break;
    case 'auth':
      map.auth = authMap(step);
      break;
  }
  const expect = expectationOf(step.reply, loose);
  if (expect !== undefined) map.expect = expect;
  return map;
}

/** The environment variables a replay needs. */
export function variablesNeeded(steps: RecordedStep[]): string[] {
  const names = new Set<string>();
  for (const step of steps) {
    if (step.kind !== 'auth') continue;
    names.add(USER_VARIABLE);
    names.add(step.mechanism === 'XOAUTH2' ? TOKEN_VARIABLE : PASSWORD_VARIABLE);
  }
  return [...names];
}

function header(steps: RecordedStep[], settings: ScenarioSettings): string[] {
  return headerLines(settings.schema, `# Recorded with smtpspec record on ${settings.date.toISOString()} from ${settings.target}.`, variablesNeeded(steps));
}

/** The whole file: header, then the scenario with one case holding every step. */
export function scenarioText(steps: RecordedStep[], settings: ScenarioSettings): string {
  const document: YamlMap = { target: settings.target };
  if (settings.timeout !== undefined) document.timeout = settings.timeout;
  if (settings.tls && steps.some((step) => step.kind === 'starttls')) document.tls = settings.tls;
  document.cases = [{ name: `session with ${settings.host}`, steps: steps.map((step) => stepMap(step, settings.loose)) }];
  const body = yamlText(document);
  return `${header(steps, settings).join('\n')}\n${body}`;
}
