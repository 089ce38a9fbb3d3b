import { resolve } from 'node:path';
import { FileReadError, LIMITS, problemText, readFileWithin, readFileWithinAsync, shortPath, type ReadProblem } from '../read-file.js';

/**
 * CA certificates, client certificates and keys, each read once, before the first session: a
 * file replaced or removed while the run goes on, or a pipe (`--ca <(…)`), serves every session.
 * One store per run or check; nothing is kept between them.
 */

export type CertificateKind = 'CA certificate' | 'client certificate' | 'client key';

/** Certificate material for a TLS session, as Node's TLS options take it. */
export interface TlsFiles {
  ca?: string[];
  cert?: Buffer;
  key?: Buffer;
}

/** Why a certificate file cannot be used: it cannot be read, or it holds no PEM certificate (or key). */
export type CertificateProblem = { read: ReadProblem } | { noPem: CertificateKind };

/** The problem in words, without the path. */
export function certificateProblemText(problem: CertificateProblem): string {
  if ('read' in problem) return problemText(problem.read);
  return problem.noPem === 'client key' ? 'it holds no PEM private key' : 'it holds no PEM certificate';
}

const PEM_CERTIFICATE = /-----BEGIN (?:TRUSTED )?CERTIFICATE-----[\s\S]*?-----END (?:TRUSTED )?CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----/;

/** Whether the bytes hold what a file of this kind must: a PEM certificate that parses, or a PEM private key. */
export function holdsPem(bytes: Buffer, kind: CertificateKind): boolean {
  const text = bytes.toString('latin1');
  if (kind === 'client key') return PEM_KEY.test(text);
  const block = PEM_CERTIFICATE.exec(text)?.[0];
  if (block === undefined) return false;
  try {
    // node:crypto and node:tls are loaded when a certificate is read: a command that reads none starts sooner.
    new (process.getBuiltinModule('node:crypto').X509Certificate)(block.replace(/TRUSTED CERTIFICATE/g, 'CERTIFICATE'));
    return true;
  } catch {
    return false;
  }
}

type Entry = { bytes: Buffer } | { problem: CertificateProblem };

export class CertificateFiles {
  private readonly files = new Map<string, Entry>();

  /** Reads the file at `path` (absolute) on first use; why it cannot be used, or undefined. */
  check(path: string, kind: CertificateKind): CertificateProblem | undefined {
    const entry = this.entry(path, kind);
    return 'problem' in entry ? entry.problem : undefined;
  }

  /**
   * Reads a file named by a flag (`--ca`), where a pipe is taken too, read to its end under a deadline.
   * Rejects with one sentence that names the flag: `--ca /dev/zero: not a regular file (a character device)`.
   */
  async readFlag(flag: string, path: string, kind: CertificateKind): Promise<void> {
    const key = resolve(path);
    if (this.files.has(key)) return;
    let entry: Entry;
    try {
      const bytes = await readFileWithinAsync(key, LIMITS.certificateFlag);
      entry = holdsPem(bytes, kind) ? { bytes } : { problem: { noPem: kind } };
    } catch (error) {
      if (!(error instanceof FileReadError)) throw error;
      entry = { problem: { read: error.problem } };
    }
    this.files.set(key, entry);
    if ('problem' in entry) throw new CertificateFileError(path, kind, entry.problem, `${flag} ${shortPath(path)}: ${certificateProblemText(entry.problem)}`);
  }

  /** The material for settings that name these files; each is read now if it was not before. Throws CertificateFileError. */
  tlsFiles(settings: { ca?: readonly string[]; cert?: string; key?: string }): TlsFiles {
    const files: TlsFiles = {};
    if (settings.ca && settings.ca.length > 0) {
      files.ca = [...process.getBuiltinModule('node:tls').rootCertificates, ...settings.ca.map((path) => this.bytes(path, 'CA certificate').toString('utf8'))];
    }
    if (settings.cert !== undefined) files.cert = this.bytes(settings.cert, 'client certificate');
    if (settings.key !== undefined) files.key = this.bytes(settings.key, 'client key');
    return files;
  }

  private bytes(path: string, kind: CertificateKind): Buffer {
    const entry = this.entry(path, kind);
    if ('problem' in entry) throw new CertificateFileError(path, kind, entry.problem, `cannot use the ${kind} ${shortPath(path)}: ${certificateProblemText(entry.problem)}`);
    return entry.bytes;
  }

  private entry(path: string, kind: CertificateKind): Entry {
    const key = resolve(path);
    let entry = this.files.get(key);
    if (entry === undefined) {
      entry = readCertificate(key, kind);
      this.files.set(key, entry);
    }
    // The same bytes named as another kind (a combined PEM file) are checked for that kind.
    if ('bytes' in entry && !holdsPem(entry.bytes, kind)) return { problem: { noPem: kind } };
    return entry;
  }
}

function readCertificate(path: string, kind: CertificateKind): Entry {
  try {
    const bytes = readFileWithin(path, LIMITS.certificate);
    return holdsPem(bytes, kind) ? { bytes } : { problem: { noPem: kind } };
  } catch (error) {
    if (error instanceof FileReadError) return { problem: { read: error.problem } };
    throw error;
  }
}

/** A certificate file that cannot be used: its path, kind and problem as data, and one sentence. */
export class CertificateFileError extends Error {
  override name = 'CertificateFileError';
  constructor(
    readonly path: string,
    readonly kind: CertificateKind,
    readonly problem: CertificateProblem,
    message: string,
  ) {
    super(message);
  }
}
