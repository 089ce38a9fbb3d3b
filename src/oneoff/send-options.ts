import type { CAC } from 'cac';
import { optionalString, parseClientAddress, parseDnsServer, parseStrings, parseTimeout } from '../cli-options.js';
import type { SendCommand, SendExpectStep, SendQuitPoint } from '../commands/types.js';
import { UsageError } from '../errors.js';
import { codeAlternative, parseRegexLiteral, regexProblem } from '../scenario/patterns.js';
import { parsePort, parseTarget } from '../scenario/target.js';

/** The `send` command's flags, parsed into a plain command: every problem is one sentence naming its flag. */

const MECHANISMS = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'] as const;
const EXPECT_STEPS: readonly SendExpectStep[] = ['greeting', 'ehlo', 'tls', 'auth', 'mail', 'rcpt', 'data'];
/** swaks' names for the points of `--quit-after`, and smtpspec's. */
const QUIT_POINTS: Record<string, SendQuitPoint> = {
  connect: 'banner',
  banner: 'banner',
  'first-helo': 'first-ehlo',
  'first-ehlo': 'first-ehlo',
  'first-lhlo': 'first-ehlo',
  tls: 'tls',
  helo: 'ehlo',
  ehlo: 'ehlo',
  lhlo: 'ehlo',
  auth: 'auth',
  mail: 'mail',
  from: 'mail',
  rcpt: 'rcpt',
  to: 'rcpt',
};
const NOTIFY = ['NEVER', 'SUCCESS', 'FAILURE', 'DELAY'] as const;

/** `--pipe "exim -bh 192.0.2.1"`: split at spaces; single or double quotes keep a word together. No shell runs it. */
export function splitCommand(text: string): string[] | undefined {
  const words: string[] = [];
  const pattern = /\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))/gy;
  let match: RegExpExecArray | null;
  let current: string | undefined;
  let last = 0;
  while ((match = pattern.exec(text)) !== null) {
    if (match[0].length === 0) break;
    const word = match[1] ?? match[2] ?? match[3] ?? '';
    // A word glued to the previous one (`a"b c"`) continues it.
    if (current !== undefined && !/^\s/.test(match[0])) current += word;
    else {
      if (current !== undefined) words.push(current);
      current = word;
    }
    last = pattern.lastIndex;
  }
  if (text.slice(last).trim() !== '') return undefined; // an unclosed quote
  if (current !== undefined) words.push(current);
  return words;
}

/** `--server HOST[:PORT]` and `--port`: the host, and the port when either names one. */
function serverOf(o: Record<string, unknown>): { server?: { host: string }; port?: number } {
  const text = optionalString(o.server, '--server');
  const portText = optionalString(o.port, '--port');
  const port = portText === undefined ? undefined : parsePort(portText);
  if (portText !== undefined && port === undefined) throw new UsageError(`--port expects a number from 1 to 65535, got "${portText}"`);
  if (text === undefined) return port === undefined ? {} : { port };
  const target = parseTarget(text, 0);
  if (!target || (target.kind !== undefined && target.kind !== 'tcp')) throw new UsageError(`--server expects HOST[:PORT], got "${text}"`);
  if (target.port !== 0 && port !== undefined && target.port !== port) throw new UsageError(`--server ${text} and --port ${portText} name two ports; give one`);
  const chosen = target.port !== 0 ? target.port : port;
  return { server: { host: target.host }, ...(chosen !== undefined ? { port: chosen } : {}) };
}

function recipientsOf(o: Record<string, unknown>): string[] {
  const to = [...parseStrings(o.to, '--to', 'an address'), ...parseStrings(o.t, '-t', 'an address')].flatMap((text) => text.split(',').map((part) => part.trim()).filter((part) => part !== ''));
  if (to.length === 0) throw new UsageError('send needs at least one --to address');
  for (const address of to) if (/[\s<>]/.test(address)) throw new UsageError(`--to expects an address such as bob@example.com, got "${address}"`);
  return to;
}

function expectOf(o: Record<string, unknown>): SendCommand['expect'] {
  const expect: SendCommand['expect'] = {};
  for (const text of parseStrings(o.expect, '--expect', 'STEP=REPLY, such as rcpt=550')) {
    const eq = text.indexOf('=');
    const step = text.slice(0, eq) as SendExpectStep;
    const value = text.slice(eq + 1).trim();
    if (eq < 0 || !EXPECT_STEPS.includes(step)) throw new UsageError(`--expect expects STEP=REPLY with STEP one of ${EXPECT_STEPS.join(', ')}, got "${text}"`);
    const entry = (expect[step] ??= { codes: [], texts: [] });
    const regex = parseRegexLiteral(value);
    if (regex) {
      const problem = regexProblem(regex.source, regex.flags);
      if (problem) throw new UsageError(`--expect ${text}: the pattern ${problem}`);
      if (entry.texts.length > 0) throw new UsageError(`--expect ${step}= gives two text patterns; give one`);
      entry.texts.push(value);
    } else if (codeAlternative(value)) entry.codes.push(value);
    else throw new UsageError(`--expect ${text}: expected a reply code such as 250, 5xx, 550 5.1.1 or 5.7.x, or /regex/`);
  }
  return expect;
}

function tlsOf(o: Record<string, unknown>): SendCommand['tls'] {
  const chosen = (['tls', 'tlsOptional', 'tlsOnConnect'] as const).filter((key) => o[key] === true);
  if (chosen.length > 1) throw new UsageError('use one of --tls, --tls-optional and --tls-on-connect');
  return o.tlsOnConnect === true ? 'implicit' : o.tls === true ? 'starttls' : o.tlsOptional === true ? 'optional' : 'none';
}

function authOf(o: Record<string, unknown>): SendCommand['auth'] {
  const user = optionalString(o.authUser, '--auth-user');
  if (o.auth === undefined) {
    if (user !== undefined) throw new UsageError('--auth-user needs --auth');
    return undefined;
  }
  const mechanism = (o.auth === true ? 'PLAIN' : String(o.auth).toUpperCase()) as (typeof MECHANISMS)[number];
  if (!MECHANISMS.includes(mechanism)) throw new UsageError(`--auth expects one of ${MECHANISMS.join(', ')}, got "${String(o.auth)}"`);
  if (user === undefined) throw new UsageError('--auth needs --auth-user NAME');
  return { mechanism, user };
}

function headersOf(o: Record<string, unknown>): SendCommand['headers'] {
  return parseStrings(o.header, '--header', '"Name: value"').map((text) => {
    const colon = text.indexOf(':');
    const name = text.slice(0, colon).trim();
    if (colon <= 0 || !/^[!-9;-~]+$/.test(name)) throw new UsageError(`--header expects "Name: value", got "${text}"`);
    return { name, value: text.slice(colon + 1).trim() };
  });
}

function dsnOf(o: Record<string, unknown>): SendCommand['dsn'] {
  const dsn: SendCommand['dsn'] = {};
  const notify = optionalString(o.dsnRcptNotify, '--dsn-rcpt-notify');
  if (notify !== undefined) {
    const words = notify.toUpperCase().split(',').map((word) => word.trim()) as (typeof NOTIFY)[number][];
    if (words.some((word) => !NOTIFY.includes(word)) || (words.includes('NEVER') && words.length > 1)) {
      throw new UsageError(`--dsn-rcpt-notify expects NEVER, or any of SUCCESS, FAILURE and DELAY separated by commas, got "${notify}"`);
    }
    dsn.notify = words;
  }
  const ret = optionalString(o.dsnRet, '--dsn-ret')?.toUpperCase();
  if (ret !== undefined && ret !== 'FULL' && ret !== 'HDRS') throw new UsageError(`--dsn-ret expects FULL or HDRS, got "${String(o.dsnRet)}"`);
  if (ret !== undefined) dsn.ret = ret;
  const envid = optionalString(o.dsnEnvid, '--dsn-envid');
  if (envid !== undefined) dsn.envid = envid;
  const orcpt = optionalString(o.dsnRcptOrcpt, '--dsn-rcpt-orcpt');
  if (orcpt !== undefined) dsn.orcpt = orcpt;
  return dsn;
}

/** `--timeout 30` is seconds, as in swaks; `30s`, `500ms`, `2m` as in scenarios. */
function timeoutOf(o: Record<string, unknown>): string | undefined {
  const text = optionalString(o.timeout, '--timeout');
  if (text === undefined) return undefined;
  const written = /^\d+(\.\d+)?$/.test(text) ? `${text}s` : text;
  parseTimeout(written);
  return written;
}

function quitAfterOf(o: Record<string, unknown>, command: Pick<SendCommand, 'tls' | 'auth'>): SendQuitPoint | undefined {
  const text = optionalString(o.quitAfter, '--quit-after');
  if (text === undefined) return undefined;
  const point = QUIT_POINTS[text.toLowerCase()];
  if (!point) throw new UsageError(`--quit-after expects one of connect, banner, first-ehlo, tls, ehlo, auth, mail, rcpt, got "${text}"`);
  if (point === 'tls' && command.tls === 'none') throw new UsageError('--quit-after tls needs --tls, --tls-optional or --tls-on-connect');
  if (point === 'auth' && !command.auth) throw new UsageError('--quit-after auth needs --auth');
  return point;
}

export function sendCommandOf(o: Record<string, unknown>): SendCommand {
  const { server, port } = serverOf(o);
  const socket = optionalString(o.socket, '--socket');
  const pipeText = optionalString(o.pipe, '--pipe');
  const pipe = pipeText === undefined ? undefined : splitCommand(pipeText);
  if (pipeText !== undefined && (!pipe || pipe.length === 0)) throw new UsageError(`--pipe expects a command such as "exim -bh 192.0.2.1", got "${pipeText}"`);
  const targets = [server && '--server', socket !== undefined && '--socket', pipe && '--pipe', o.embedded === true && '--embedded'].filter(Boolean);
  if (targets.length > 1) throw new UsageError(`use one of ${targets.join(', ')}, not several`);
  const tls = tlsOf(o);
  const auth = authOf(o);
  const data = optionalString(o.data, '--data');
  const headers = headersOf(o);
  const attach = parseStrings(o.attach, '--attach', 'a file name');
  const body = optionalString(o.body, '--body');
  if (data !== undefined && (headers.length > 0 || attach.length > 0 || body !== undefined)) {
    throw new UsageError('--data sends a whole message file: it does not go with --header, --body or --attach');
  }
  const protocol = (optionalString(o.protocol, '--protocol') ?? 'smtp').toLowerCase();
  if (protocol !== 'smtp' && protocol !== 'lmtp') throw new UsageError(`--protocol expects smtp or lmtp, got "${String(o.protocol)}"`);
  const from = optionalString(o.from, '--from');
  if (from !== undefined && /[\s<>]/.test(from)) throw new UsageError(`--from expects an address such as alice@example.com (or "" for the null sender), got "${from}"`);
  const helo = optionalString(o.helo ?? o.ehlo, o.helo !== undefined ? '--helo' : '--ehlo');
  if (helo !== undefined && /\s/.test(helo)) throw new UsageError(`--helo expects a host name, got "${helo}"`);
  const localInterface = optionalString(o.localInterface, '--local-interface');
  const client = parseClientAddress(localInterface === undefined ? o : { ...o, localAddress: o.localAddress ?? localInterface });
  const ca = parseStrings(o.ca, '--ca', 'a file name');
  const verify = o.tlsVerify !== false;
  if (!verify && ca.length > 0) throw new UsageError('use either --ca or --no-tls-verify, not both');
  const authPassword = o.authPassword === undefined ? undefined : optionalString(o.authPassword, '--auth-password');
  if (authPassword !== undefined && !auth) throw new UsageError('--auth-password needs --auth');
  const save = optionalString(o.save, '--save');
  if (o.force === true && save === undefined) throw new UsageError('--force goes with --save FILE');
  const timeout = timeoutOf(o);
  const dnsServer = parseDnsServer(o.dnsServer);
  return {
    command: 'send',
    ...(server ? { server } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(socket !== undefined ? { socket } : {}),
    ...(pipe ? { pipe } : {}),
    embedded: o.embedded === true,
    ...(dnsServer ? { dnsServer } : {}),
    to: recipientsOf(o),
    ...(from !== undefined ? { from } : {}),
    ...(helo !== undefined ? { helo } : {}),
    tls,
    verify,
    ca,
    ...(auth ? { auth } : {}),
    ...(authPassword !== undefined ? { authPassword } : {}),
    headers,
    ...(body !== undefined ? { body } : {}),
    ...(data !== undefined ? { data } : {}),
    attach,
    pipeline: o.pipeline === true,
    ...(o.quitAfter !== undefined ? { quitAfter: quitAfterOf(o, { tls, ...(auth ? { auth } : {}) }) } : {}),
    ...client,
    ...(timeout !== undefined ? { timeout } : {}),
    dsn: dsnOf(o),
    protocol,
    expect: expectOf(o),
    ...(save !== undefined ? { save } : {}),
    force: o.force === true,
    printSwaks: o.printSwaks === true,
  };
}

export function addSendCommand(cli: CAC, found: (command: SendCommand) => void): void {
  cli
    .command('send', 'Run one SMTP transaction from flags (swaks\' names), print it, and optionally save it as a scenario')
    .option('-s, --server <host[:port]>', "The server (default: the MX of the first recipient's domain)")
    .option('--port <port>', 'The port (default 25; 465 with --tls-on-connect; 24 with --protocol lmtp)')
    .option('--to <address>', 'A recipient (repeatable, or several separated by commas)', { type: [String] })
    // Not an alias of --to: the argument parser drops the values of one spelling when both are used.
    .option('-t <address>', 'The same as --to', { type: [String] })
    .option('-f, --from <address>', 'The envelope sender (default USER@HOSTNAME)')
    .option('--helo <name>', "The name given in EHLO or LHLO (default this machine's name)")
    .option('--ehlo <name>', 'The same as --helo')
    .option('--tls', 'Require STARTTLS')
    .option('--tls-optional', 'STARTTLS when the server offers it')
    .option('--tls-on-connect', 'TLS from the first byte (implicit TLS)')
    .option('--tls-verify', 'Verify the certificate (the default; swaks verifies only with this flag)')
    .option('--no-tls-verify', 'Do not verify the certificate')
    .option('--ca <file>', 'Trust this CA certificate (PEM) too (repeatable)', { type: [String] })
    .option('--auth [mechanism]', 'AUTH with PLAIN (the default), LOGIN, CRAM-MD5 or XOAUTH2; the password comes from SMTP_PASSWORD or a prompt on the terminal')
    .option('--auth-user <name>', 'The user name for AUTH')
    .option('--auth-password <password>', 'The password, if you must: the shell history keeps it (prefer SMTP_PASSWORD)')
    .option('--header <"Name: value">', 'A header of the message (repeatable)', { type: [String] })
    .option('--body <text>', 'The body of the message')
    .option('--data <file>', 'Send this file as the whole message')
    .option('--attach <file>', 'Attach this file (repeatable)', { type: [String] })
    .option('--pipeline', 'Send MAIL, RCPT and DATA in one write (PIPELINING)')
    .option('--quit-after <point>', 'QUIT after connect, banner, first-ehlo, tls, ehlo, auth, mail or rcpt')
    .option('-4, --ipv4', 'Connect over IPv4 only')
    .option('-6, --ipv6', 'Connect over IPv6 only')
    .option('--local-address <address>', 'Connect from this IP address of this machine')
    .option('--local-interface <address>', 'The same as --local-address (swaks\' name)')
    .option('--timeout <duration>', 'Deadline for connecting and each reply (30s, 2m, or seconds; default 30s)')
    .option('--dsn-rcpt-notify <when>', 'DSN: NOTIFY on each RCPT (NEVER, or SUCCESS,FAILURE,DELAY)')
    .option('--dsn-ret <what>', 'DSN: RET on MAIL (FULL or HDRS)')
    .option('--dsn-envid <id>', 'DSN: ENVID on MAIL')
    .option('--dsn-rcpt-orcpt <address>', 'DSN: ORCPT on each RCPT')
    .option('--protocol <name>', 'smtp (default) or lmtp')
    .option('--socket <path>', 'Talk over this UNIX socket')
    .option('--pipe <command>', "Talk to this command's standard input and output (no shell)")
    .option('--embedded', 'Send to the embedded test server')
    .option('--dns-server <host:port>', 'Look the MX up with this DNS server')
    .option('--expect <step=reply>', 'Hold a step to a reply: greeting, ehlo, tls, auth, mail, rcpt or data = 550, 5xx, 550 5.1.1, /regex/ (repeatable)', { type: [String] })
    .option('--save <file>', 'Write the equivalent scenario to this file')
    .option('--force', 'With --save: replace the file if it exists')
    .option('--print-swaks', 'Print the equivalent swaks command instead of running')
    .example('smtpspec send --server mx.example.com --to postmaster@example.com')
    .example('SMTP_PASSWORD=… smtpspec send -s smtp.example.com:587 --tls --auth --auth-user me@example.com --to you@example.org')
    .example('smtpspec send -s mx.example.com --to someone@example.org --expect rcpt=5xx --save relay.yaml')
    .action((o: Record<string, unknown>) => found(sendCommandOf(o)));
}
