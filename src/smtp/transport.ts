import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { formatAddress } from './address.js';
import type { Transcript } from './transcript.js';
import { SmtpError, type SmtpErrorPhase } from './types.js';
import { isSystemError } from '../errors.js';
import type { IpFamily } from '../ip.js';
import { plural } from '../words.js';

/**
 * How a session reaches its server: TCP, a UNIX domain socket, or a child process
 * speaking SMTP on its stdin/stdout (`sendmail -bs`). Every transport ends up as one Duplex.
 */

export type TransportSpec =
  | TcpSpec
  | { kind: 'unix'; path: string }
  /** Run without a shell: spawn(argv[0], argv.slice(1)). */
  | { kind: 'exec'; argv: string[] };

export interface TcpSpec {
  kind: 'tcp';
  host: string;
  port: number;
  /** Where `host` was looked up already: tried instead of asking the system resolver. */
  addresses?: string[];
  /** The client's source address (a receiver judges a client by its IP). */
  localAddress?: string;
  /** Connect over IPv4 or IPv6 only; default: the family of localAddress, else either. */
  family?: IpFamily;
}

export interface OpenTransport {
  readonly spec: TransportSpec;
  /** The session's byte stream. */
  readonly stream: Duplex;
  /** Maps an error of the stream to an SmtpError with a named cause, struck in `phase`. */
  describeError(err: Error, phase: SmtpErrorPhase): SmtpError;
  /** How the other side ended the stream: `server closed the connection`, `process exited with code 1`. */
  closedMessage(): string;
}

/** Lines a program may print before its greeting: `exim -bh` prints four (`**** SMTP testing session…`). */
const EXEC_LINES_BEFORE_GREETING = 100;

/**
 * How many lines that are not replies may come before the greeting. A server on a socket must greet
 * first (RFC 5321 §3.1, §4.2); a program run for a session may print a banner first, which is read
 * past as swaks' `--pipe` does, and shown in the transcript.
 */
export function linesBeforeGreeting(spec: TransportSpec): number {
  return spec.kind === 'exec' ? EXEC_LINES_BEFORE_GREETING : 0;
}

/** stderr lines of a child process kept in the transcript; the rest are only counted. */
const STDERR_NOTE_LINES = 20;
const STDERR_LINE_CHARS = 500;
/** How long to wait for a child's exit status once its output has ended (or the reverse). */
const EXIT_GRACE_MS = 1000;
/** After SIGTERM, how long a child may take before SIGKILL. */
const KILL_GRACE_MS = 500;

export function openTransport(spec: TransportSpec, timeoutMs: number, transcript: Transcript): Promise<OpenTransport> {
  switch (spec.kind) {
    case 'tcp':
      return openTcp(spec, timeoutMs, transcript);
    case 'unix':
      return openUnix(spec, timeoutMs, transcript);
    case 'exec':
      return openExec(spec, timeoutMs, transcript);
  }
}

/** Maps a socket error, by its code, to an SmtpError with a named cause and a one-line message. */
export function describeSocketError(err: Error, host: string, address: string, phase: SmtpErrorPhase): SmtpError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code?.startsWith('ERR_SSL_')) return new SmtpError('tls', phase, `TLS error: ${openSslReason(err)}`);
  switch (code) {
    case 'ECONNREFUSED':
      return new SmtpError('refused', phase, `connection refused by ${address}`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'ENODATA':
      return new SmtpError('dns', phase, `cannot resolve host "${host}"`);
    case 'ECONNRESET':
      return new SmtpError('reset', phase, 'connection reset by the server');
    case 'EPIPE':
      return new SmtpError('closed', phase, 'server closed the connection');
    case 'ERR_STREAM_DESTROYED':
    case 'ERR_STREAM_WRITE_AFTER_END':
      return new SmtpError('closed', phase, 'the connection is closed');
    default:
      return new SmtpError('network', phase, `network error with ${address}: ${code ?? err.message}`);
  }
}

/** OpenSSL's reason (`tlsv13 alert certificate required`) with its code, or the message. */
export function openSslReason(err: Error): string {
  const { reason, code } = err as Error & { reason?: string; code?: string };
  return reason ? `${reason}${code ? ` (${code})` : ''}` : err.message;
}

/**
 * Settles once `stream` emits `event`, or rejects with the SmtpError made for its first 'error'
 * (or 'close', when `onClose` is given) or for the deadline passing; on failure the stream is destroyed.
 */
export function untilEvent(
  stream: Duplex,
  event: string,
  timeoutMs: number,
  failures: { onError: (err: Error) => SmtpError; onTimeout: () => SmtpError; onClose?: () => SmtpError },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      stream.off(event, onEvent);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const fail = (error: SmtpError): void => {
      cleanup();
      stream.on('error', ignore);
      stream.destroy();
      reject(error);
    };
    const onEvent = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => fail(failures.onError(err));
    const onClose = (): void => fail(failures.onClose!());
    const timer = setTimeout(() => fail(failures.onTimeout()), timeoutMs);
    // `on`, not `once`: cleanup removes every listener at the first of them.
    stream.on(event, onEvent);
    stream.on('error', onError);
    if (failures.onClose) stream.on('close', onClose);
  });
}

async function openTcp(spec: TcpSpec, timeoutMs: number, transcript: Transcript): Promise<OpenTransport> {
  const label = formatAddress(spec.host, spec.port);
  const family = spec.family ?? (spec.localAddress === undefined ? undefined : (net.isIP(spec.localAddress) as IpFamily));
  // An address is connected to as written, whatever family is asked for: it has to be refused here.
  const literal = net.isIP(spec.host);
  if (family && literal !== 0 && literal !== family) {
    throw new SmtpError('network', 'connect', `cannot connect to ${spec.host}, an IPv${literal} address, over IPv${family}${spec.localAddress ? ` (from ${spec.localAddress})` : ''}`);
  }
  const socket = net.connect({
    host: spec.host,
    port: spec.port,
    noDelay: true,
    ...(spec.addresses ? { lookup: knownAddresses(spec.addresses) } : {}),
    ...(spec.localAddress !== undefined ? { localAddress: spec.localAddress } : {}),
    ...(family ? { family } : {}),
  });
  await untilEvent(socket, 'connect', timeoutMs, {
    onError: (err) => describeTcpError(err, spec, family, label),
    onTimeout: () => new SmtpError('connect-timeout', 'connect', `no answer from ${label} within ${timeoutMs} ms`),
  });
  // An IPv4 address is the address connected to, as written: no need to ask the system.
  const remote = net.isIPv4(spec.host) ? spec.host : socket.remoteAddress;
  transcript.note(`connected to ${label}${remote && remote !== spec.host ? ` (${remote})` : ''}`);
  return new TcpTransport(spec.host, spec.port, label, socket);
}

/** A connect failure, with what only the TCP options explain: the family asked for, the source address. */
function describeTcpError(err: Error, spec: TcpSpec, family: IpFamily | undefined, label: string): SmtpError {
  const error = describeSocketError(err, spec.host, label, 'connect');
  const code = (err as NodeJS.ErrnoException).code;
  if (error.kind === 'dns' && family) return new SmtpError('dns', 'connect', `cannot resolve host "${spec.host}" to an IPv${family} address`);
  if (spec.localAddress !== undefined && (code === 'EADDRNOTAVAIL' || code === 'EINVAL')) {
    return new SmtpError('network', 'connect', `cannot connect from ${spec.localAddress}: it is not an address of this machine, or cannot reach ${label}`);
  }
  return error;
}

/** A name lookup that answers with addresses looked up earlier (on a configured DNS server), in their order. */
function knownAddresses(addresses: string[]): net.LookupFunction {
  return (_hostname, options, callback) => {
    const wanted = addresses.filter((address) => !options.family || net.isIP(address) === options.family);
    const found = wanted.map((address) => ({ address, family: net.isIP(address) }));
    if (found.length === 0) {
      callback(Object.assign(new Error(`no ${options.family === 6 ? 'IPv6' : 'IPv4'} address`), { code: 'ENODATA' }), '', 0);
    } else if (options.all) {
      (callback as unknown as (err: null, addresses: { address: string; family: number }[]) => void)(null, found);
    } else {
      callback(null, found[0]!.address, found[0]!.family);
    }
  };
}

/** A class rather than an object of closures: one is alive for every session in flight. */
class TcpTransport implements OpenTransport {
  readonly spec: { kind: 'tcp'; host: string; port: number };

  constructor(
    host: string,
    port: number,
    private readonly label: string,
    readonly stream: net.Socket,
  ) {
    this.spec = { kind: 'tcp', host, port };
  }

  describeError(err: Error, phase: SmtpErrorPhase): SmtpError {
    return describeSocketError(err, this.spec.host, this.label, phase);
  }

  closedMessage(): string {
    return 'server closed the connection';
  }
}

async function openUnix(spec: { path: string }, timeoutMs: number, transcript: Transcript): Promise<OpenTransport> {
  const label = `socket ${spec.path}`;
  const socket = net.connect({ path: spec.path });
  await untilEvent(socket, 'connect', timeoutMs, {
    onError: (err) => describeUnixError(err, spec.path),
    onTimeout: () => new SmtpError('connect-timeout', 'connect', `no answer from ${label} within ${timeoutMs} ms`),
  });
  transcript.note(`connected to ${label}`);
  return {
    spec: { kind: 'unix', ...spec },
    stream: socket,
    describeError: (err, phase) => describeSocketError(err, spec.path, label, phase),
    closedMessage: () => 'server closed the connection',
  };
}

function describeUnixError(err: Error, path: string): SmtpError {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new SmtpError('refused', 'connect', `no server listening on socket ${path}`);
    case 'EACCES':
    case 'EPERM':
      return new SmtpError('network', 'connect', `permission denied for socket ${path}`);
    case 'ENOTSOCK':
      return new SmtpError('network', 'connect', `${path} is not a socket`);
    default:
      return describeSocketError(err, path, `socket ${path}`, 'connect');
  }
}

async function openExec(spec: { argv: string[] }, timeoutMs: number, transcript: Transcript): Promise<OpenTransport> {
  const [program, ...args] = spec.argv;
  if (program === undefined || program === '') throw new SmtpError('network', 'connect', 'no command to run');
  const child = spawnChild(program, args);
  await spawned(child, program, timeoutMs);
  transcript.note(`started ${spec.argv.map(shellWord).join(' ')} (pid ${child.pid})`);
  const stream = new ChildDuplex(child);
  noteStderr(child, transcript);
  return {
    spec: { kind: 'exec', argv: [...spec.argv] },
    stream,
    describeError: (err, phase) => stream.describeError(err, phase),
    closedMessage: () => stream.exitMessage(),
  };
}

/** Most failures to start come as an 'error' event; some system errors are thrown at once, and are converted the same way. */
function spawnChild(program: string, args: string[]): ChildProcess {
  try {
    return spawn(program, args, { shell: false, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    if (isSystemError(error)) throw describeSpawnError(error, program);
    throw error;
  }
}

function spawned(child: ChildProcess, program: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('spawn', onSpawn);
      child.off('error', onError);
    };
    const onSpawn = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(describeSpawnError(err, program));
    };
    const timer = setTimeout(() => {
      cleanup();
      child.on('error', ignore);
      child.kill('SIGKILL');
      reject(new SmtpError('connect-timeout', 'connect', `"${program}" did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('spawn', onSpawn);
    child.once('error', onError);
  });
}

function describeSpawnError(err: Error, program: string): SmtpError {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return new SmtpError('network', 'connect', `cannot run "${program}": command not found`);
    case 'EACCES':
    case 'EPERM':
      return new SmtpError('network', 'connect', `cannot run "${program}": permission denied`);
    default:
      return new SmtpError('network', 'connect', `cannot run "${program}": ${(err as NodeJS.ErrnoException).code ?? err.message}`);
  }
}

/** A child's stderr as transcript notes, `stderr: …`, the first lines only. */
function noteStderr(child: ChildProcess, transcript: Transcript): void {
  const stderr = child.stderr;
  if (!stderr) return;
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let shown = 0;
  let hidden = 0;
  const line = (text: string): void => {
    if (shown >= STDERR_NOTE_LINES) {
      hidden += 1;
      return;
    }
    shown += 1;
    const cut = text.length > STDERR_LINE_CHARS ? `${text.slice(0, STDERR_LINE_CHARS)}…` : text;
    transcript.note(`stderr: ${cut.replace(/\r$/, '')}`);
  };
  stderr.on('data', (chunk: Buffer) => {
    const lines = (partial + decoder.write(chunk)).split('\n');
    partial = lines.pop() ?? '';
    // An endless line is cut rather than held in memory.
    if (partial.length > STDERR_LINE_CHARS) {
      line(partial);
      partial = '';
    }
    for (const text of lines) line(text);
  });
  stderr.on('error', ignore);
  stderr.once('end', () => {
    const rest = partial + decoder.end();
    if (rest !== '') line(rest);
    if (hidden > 0) transcript.note(`stderr: ${plural(hidden, 'more line')} not shown`);
  });
}

/** A word of argv as a shell would need it, for notes only (nothing is ever run through a shell). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : JSON.stringify(word);
}

/**
 * The child's stdin and stdout as one Duplex. The readable side ends once the child has exited
 * and closed its pipes (its stderr notes are then complete and its exit status known), or a
 * grace period after either its output ended or it exited, for children whose pipes outlive them.
 * Destroying it kills the child if it is still running.
 */
class ChildDuplex extends Duplex {
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readableDone = false;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly child: ChildProcess) {
    super();
    const { stdin, stdout } = child;
    if (!stdin || !stdout) throw new Error('child process without pipes');
    child.on('error', ignore);
    stdin.on('error', ignore);
    stdout.on('error', (err) => this.destroy(err));
    stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stdout.pause();
    });
    stdout.once('end', () => this.startGrace());
    child.once('exit', (code, signal) => {
      this.exit = { code, signal };
      this.startGrace();
    });
    child.once('close', () => this.finishReadable());
  }

  /** `process exited with code 0`, `process exited on signal SIGTERM`, or that it closed its output. */
  exitMessage(): string {
    if (!this.exit) return 'process closed its output';
    if (this.exit.signal) return `process exited on signal ${this.exit.signal}`;
    return `process exited with code ${this.exit.code}`;
  }

  describeError(err: Error, phase: SmtpErrorPhase): SmtpError {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END') {
      return new SmtpError('closed', phase, this.exit ? this.exitMessage() : 'process closed its input');
    }
    return new SmtpError('network', phase, `error talking to the process: ${code ?? err.message}`);
  }

  override _read(): void {
    this.child.stdout?.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const stdin = this.child.stdin;
    if (!stdin || stdin.destroyed) {
      callback(Object.assign(new Error('stdin is closed'), { code: 'EPIPE' }));
      return;
    }
    stdin.write(chunk, (err) => callback(err ?? null));
  }

  override _final(callback: (error?: Error | null) => void): void {
    const stdin = this.child.stdin;
    if (!stdin || stdin.destroyed || stdin.writableEnded) return callback();
    stdin.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.graceTimer);
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      callback(error);
      return;
    }
    const killTimer = setTimeout(() => this.child.kill('SIGKILL'), KILL_GRACE_MS);
    this.child.once('exit', () => {
      clearTimeout(killTimer);
      callback(error);
    });
    this.child.kill('SIGTERM');
  }

  private startGrace(): void {
    if (!this.readableDone) this.graceTimer ??= setTimeout(() => this.finishReadable(), EXIT_GRACE_MS);
  }

  private finishReadable(): void {
    if (this.readableDone) return;
    this.readableDone = true;
    clearTimeout(this.graceTimer);
    this.push(null);
  }
}

/** A listener that does nothing: keeps an 'error' event from being thrown once its failure is handled elsewhere. */
export function ignore(): void {}
