import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Transcript } from './transcript.js';
import { ignore, type OpenTransport } from './transport-spec.js';
import { SmtpError, type SmtpErrorPhase } from './types.js';
import { isSystemError } from '../errors.js';
import { plural } from '../words.js';

/** A child process speaking SMTP on its stdin and stdout (`sendmail -bs`, `exim -bh`), as a transport. */

/** stderr lines of a child process kept in the transcript; the rest are only counted. */
const STDERR_NOTE_LINES = 20;
const STDERR_LINE_CHARS = 500;
/** How long to wait for a child's exit status once its output has ended (or the reverse). */
const EXIT_GRACE_MS = 1000;
/** After SIGTERM, how long a child may take before SIGKILL. */
const KILL_GRACE_MS = 500;

export async function openExec(spec: { argv: string[] }, timeoutMs: number, transcript: Transcript): Promise<OpenTransport> {
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
