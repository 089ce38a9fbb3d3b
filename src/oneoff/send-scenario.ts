import type { SendCommand, SendExpectStep, SendQuitPoint } from '../commands/types.js';
import { authCredentials, expectationOf, headerLines, literal, yamlText } from '../record/writer.js';
import type { Reply } from '../smtp/types.js';
import { buildMailCommand, buildRcptCommand } from '../smtp/mail-params.js';

/**
 * A one-off transaction (`smtpspec send`) as scenario text: the same text is loaded and run at once,
 * and written by `--save`, so what runs once is exactly what replays. Pure: the defaults that depend on
 * the machine and the clock (sender, EHLO name, date) come in with the settings.
 */

type YamlValue = string | number | boolean | YamlValue[] | { [key: string]: YamlValue };
type YamlMap = { [key: string]: YamlValue };

export interface SendSettings {
  /** The scenario's `target:` as written (`host:port`, `{ socket }`, `{ exec }`); absent for the embedded server. */
  target?: YamlValue;
  /** Said in the header: where the target came from, e.g. `MX of example.com`. */
  targetNote?: string;
  from: string;
  helo: string;
  /** The CA files and the message files, relative to the scenario file's folder. */
  ca: string[];
  data?: string;
  attach: string[];
  date: Date;
  /** The `$schema` reference for editors, relative to the file's folder (for a saved file). */
  schema?: string;
}

/** Which part of the transaction each step (or each command of a pipeline step) is: the key of what was observed. */
export type StepKey = string;

export interface SendScenario {
  text: string;
  /** For each step in order, its key; a pipeline step has one per command. */
  keys: (StepKey | StepKey[])[];
}

/** Replies observed in a run, by step key: saved as the expectations of the steps the user gave none. */
export type Observed = ReadonlyMap<StepKey, Reply>;

interface Step {
  key: StepKey | StepKey[];
  map: YamlMap;
}

/** What a step accepts without `--expect` and without an observed reply: the usual success. */
const DEFAULTS: Record<string, string | undefined> = { greeting: '2xx', ehlo: '2xx', 'first-ehlo': '2xx', tls: undefined, auth: '2xx', mail: '2xx', rcpt: '2xx', 'data-command': '3xx', data: '2xx', quit: '2xx' };

/** `rcpt:1` → `rcpt`. */
function kindOf(key: StepKey): string {
  return key.split(':')[0] ?? key;
}

function expectKindOf(kind: string): SendExpectStep | undefined {
  if (kind === 'first-ehlo') return 'ehlo';
  return (['greeting', 'ehlo', 'tls', 'auth', 'mail', 'rcpt', 'data'] as const).find((step) => step === kind);
}

/** `550` as a number, anything else as text; several codes are alternatives. */
function codeValue(code: string): YamlValue {
  return /^\d{3}$/.test(code) ? Number(code) : code;
}

/** The checks of one step: asked for, else observed, else the default. */
function checks(key: StepKey, command: SendCommand, observed: Observed | undefined): YamlMap {
  const kind = kindOf(key);
  const asked = expectKindOf(kind) === undefined ? undefined : command.expect[expectKindOf(kind)!];
  const map: YamlMap = {};
  if (asked && asked.codes.length > 0) map.expect = asked.codes.length === 1 ? codeValue(asked.codes[0]!) : asked.codes.map(codeValue);
  if (asked && asked.texts.length > 0) map.text = literal(asked.texts[0]!);
  if (asked && (asked.codes.length > 0 || asked.texts.length > 0)) {
    // A text pattern alone still needs the usual success, unless the user named the code.
    if (map.expect === undefined && DEFAULTS[kind] !== undefined) map.expect = DEFAULTS[kind]!;
    return map;
  }
  const reply = observed?.get(key);
  const seen = reply ? expectationOf(reply, false) : undefined;
  // starttls expects 220 by default: nothing to write when that is what came.
  if (kind === 'tls') return seen !== undefined && reply?.code !== 220 ? { expect: seen } : {};
  const expect = seen ?? DEFAULTS[kind];
  if (expect !== undefined) map.expect = expect;
  return map;
}

const STARTTLS_OFFERED: YamlMap = { capability: 'STARTTLS' };

function mailLine(command: SendCommand, settings: SendSettings): string {
  return buildMailCommand({ from: settings.from, ...(command.dsn.ret ? { ret: command.dsn.ret } : {}), ...(command.dsn.envid !== undefined ? { envid: command.dsn.envid } : {}) });
}

function rcptLine(command: SendCommand, to: string): string {
  return buildRcptCommand({ to, ...(command.dsn.notify ? { notify: command.dsn.notify } : {}), ...(command.dsn.orcpt !== undefined ? { orcpt: command.dsn.orcpt } : {}) });
}

/** `Mon, 07 Dec 2026 22:28:33 +0000`, as swaks' default subject has it. */
function subjectDate(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

/** The message: a file, or composed (Date and Message-ID are added by smtpspec) from the defaults and the flags. */
function dataValue(command: SendCommand, settings: SendSettings): YamlValue {
  if (settings.data !== undefined) return { file: settings.data };
  const headers: YamlMap = { From: literal(settings.from === '' ? `<>` : settings.from), To: literal(command.to.join(', ')), Subject: `test ${subjectDate(settings.date)}` };
  for (const header of command.headers) {
    const existing = Object.keys(headers).find((name) => name.toLowerCase() === header.name.toLowerCase());
    if (existing !== undefined) delete headers[existing];
    headers[header.name] = literal(header.value);
  }
  const body = command.body ?? 'This is a test mailing';
  const map: YamlMap = { headers, body: literal(body.endsWith('\n') ? body : `${body}\n`) };
  if (settings.attach.length > 0) map.attachments = settings.attach.map((file) => ({ file }));
  return map;
}

const ORDER: readonly SendQuitPoint[] = ['banner', 'first-ehlo', 'tls', 'ehlo', 'auth', 'mail', 'rcpt'];

/**
 * Where the transaction stops: `--quit-after`, or sooner, after a step the user expects to be refused
 * (`--expect rcpt=5xx`: a refused recipient leaves nothing to send, so QUIT follows it).
 */
function quitPoint(command: SendCommand): SendQuitPoint | undefined {
  const refused = (step: SendExpectStep) => {
    const codes = command.expect[step]?.codes ?? [];
    return codes.length > 0 && codes.every((code) => /^[45]/.test(code));
  };
  const points: SendQuitPoint[] = command.quitAfter ? [command.quitAfter] : [];
  if (refused('greeting')) points.push('banner');
  if (refused('ehlo')) points.push(command.tls === 'starttls' || command.tls === 'optional' ? 'first-ehlo' : 'ehlo');
  if (refused('tls')) points.push('tls');
  if (refused('auth')) points.push('auth');
  if (refused('mail')) points.push('mail');
  if (refused('rcpt')) points.push('rcpt');
  return points.sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b))[0];
}

/** Every step of the transaction, up to `--quit-after` (or a refusal the user expects), then QUIT. */
function steps(command: SendCommand, settings: SendSettings, observed: Observed | undefined): Step[] {
  const list: Step[] = [];
  const add = (key: StepKey, action: YamlMap, extra: YamlMap = {}) => list.push({ key, map: { ...action, ...checks(key, command, observed), ...extra } });
  const quitAt = quitPoint(command);
  const done = () => list.push({ key: 'quit', map: { send: 'QUIT', ...checks('quit', command, observed) } });
  const stop = (): Step[] => {
    done();
    return list;
  };
  const hello = `${command.protocol === 'lmtp' ? 'LHLO' : 'EHLO'} ${literal(settings.helo)}`;
  add('greeting', {});
  if (quitAt === 'banner' || (quitAt === 'tls' && command.tls === 'implicit')) return stop();
  add(command.tls === 'starttls' || command.tls === 'optional' ? 'first-ehlo' : 'ehlo', { send: hello });
  if (quitAt === 'first-ehlo') return stop();
  if (command.tls === 'starttls' || command.tls === 'optional') {
    const when: YamlMap = command.tls === 'optional' ? { when: STARTTLS_OFFERED } : {};
    add('tls', { starttls: true }, when);
    if (quitAt === 'tls') return stop();
    add('ehlo', { send: hello }, when);
  }
  if (quitAt === 'ehlo') return stop();
  if (command.auth) {
    add('auth', { auth: { mechanism: command.auth.mechanism, ...authCredentials(command.auth.mechanism) } });
    if (quitAt === 'auth') return stop();
  }
  const recipients = command.to.map((to, index) => ({ key: `rcpt:${index}`, to }));
  if (command.pipeline && quitAt === undefined) {
    const commands: { key: StepKey; line: string }[] = [{ key: 'mail', line: mailLine(command, settings) }, ...recipients.map(({ key, to }) => ({ key, line: rcptLine(command, to) })), { key: 'data-command', line: 'DATA' }];
    list.push({ key: commands.map((c) => c.key), map: { pipeline: commands.map((c) => ({ send: literal(c.line), ...checks(c.key, command, observed) })) } });
  } else {
    add('mail', { mail: mailMap(command, settings) });
    if (quitAt === 'mail') return stop();
    for (const { key, to } of recipients) add(key, { rcpt: rcptMap(command, to) });
    if (quitAt === 'rcpt') return stop();
    add('data-command', { send: 'DATA' });
  }
  add('data', { data: dataValue(command, settings) });
  done();
  return list;
}

function mailMap(command: SendCommand, settings: SendSettings): YamlValue {
  const { ret, envid } = command.dsn;
  if (!ret && envid === undefined) return literal(settings.from);
  return { from: literal(settings.from), ...(ret ? { ret } : {}), ...(envid !== undefined ? { envid: literal(envid) } : {}) };
}

function rcptMap(command: SendCommand, to: string): YamlValue {
  const { notify, orcpt } = command.dsn;
  if (!notify && orcpt === undefined) return literal(to);
  return { to: literal(to), ...(notify ? { notify } : {}), ...(orcpt !== undefined ? { orcpt: literal(orcpt) } : {}) };
}

function tlsValue(command: SendCommand, settings: SendSettings): YamlMap | undefined {
  if (command.tls === 'none') return undefined;
  const map: YamlMap = {};
  if (command.tls === 'implicit') map.implicit = true;
  if (!command.verify) map.verify = false;
  if (settings.ca.length > 0) map.ca = settings.ca.length === 1 ? settings.ca[0]! : settings.ca;
  return map;
}

/** The scenario for these flags; with `observed`, the steps without `--expect` expect what was observed. */
export function sendScenario(command: SendCommand, settings: SendSettings, observed?: Observed): SendScenario {
  const list = steps(command, settings, observed);
  const document: YamlMap = {};
  if (settings.target !== undefined) document.target = settings.target;
  if (command.protocol === 'lmtp') document.protocol = 'lmtp';
  const tls = tlsValue(command, settings);
  if (tls !== undefined && Object.keys(tls).length > 0) document.tls = tls;
  if (command.timeout !== undefined) document.timeout = command.timeout;
  document.cases = [{ name: `send to ${command.to.join(', ')}`, steps: list.map((step) => step.map) }];
  const needed = command.auth ? ['SMTP_USER', command.auth.mechanism === 'XOAUTH2' ? 'SMTP_TOKEN' : 'SMTP_PASSWORD'] : [];
  const origin = `# Made with smtpspec send on ${settings.date.toISOString()}${settings.targetNote ? ` (${settings.targetNote})` : ''}.`;
  const lines = headerLines(settings.schema, origin, needed);
  if (settings.target === undefined) lines.push('# No target: run it with --embedded or --target HOST[:PORT].');
  return { text: `${lines.join('\n')}\n${yamlText(document)}`, keys: list.map((step) => step.key) };
}
