/** A complete SMTP reply (RFC 5321 §4.2): one code, one or more lines of text. */
export interface Reply {
  readonly code: number;
  /** RFC 3463 enhanced status code that starts the text of the first line, e.g. `5.1.1`. */
  readonly enhanced?: string;
  /** The text of each line after the code and its separator (`-` or space), in order. */
  readonly lines: readonly string[];
}

/** raw: every received line in full, code included, for the transcript. The same reply may be handed out again: see SharedRecords. */
export interface ReplyEvent {
  type: 'reply';
  reply: Reply;
  raw: readonly string[];
  warnings?: string[];
}

/** One line of a session. The same entry may be in several transcripts: see SharedRecords. */
export interface TranscriptEntry {
  /** Milliseconds since the session began. */
  readonly atMs: number;
  /** C: sent by the client, S: received from the server, *: a note (connected, closed…). */
  readonly dir: 'C' | 'S' | '*';
  readonly text: string;
}

/**
 * Why a network operation failed:
 * dns: the name did not resolve; refused: nothing listens there; connect-timeout: no answer to the connect;
 * timeout: no complete reply before the deadline; closed: the server closed the connection;
 * reset: the connection was reset; protocol: the bytes are not a valid reply;
 * limit: a reply exceeded a size limit; tls: the TLS handshake or certificate check failed;
 * network: any other socket error.
 */
export type SmtpErrorKind =
  | 'dns'
  | 'refused'
  | 'connect-timeout'
  | 'timeout'
  | 'closed'
  | 'reset'
  | 'protocol'
  | 'limit'
  | 'tls'
  | 'network';

/**
 * Where in the session an error struck:
 * connect: opening the transport (name resolution, connecting, starting the process, the PROXY header);
 * tls: the TLS handshake, or the files it needs; certificate: the check of the server's certificate after the handshake;
 * reply: reading a reply, or the connection failing while the session was open;
 * send: sending a command or message data; close: the client closing the session.
 */
export type SmtpErrorPhase = 'connect' | 'tls' | 'certificate' | 'reply' | 'send' | 'close';

export class SmtpError extends Error {
  override name = 'SmtpError';
  constructor(
    readonly kind: SmtpErrorKind,
    readonly phase: SmtpErrorPhase,
    message: string,
    /** Lines received so far when the error struck (for protocol errors and partial replies). */
    readonly partialLines: string[] = [],
  ) {
    super(message);
  }
}

/** What a TLS session turned out to be, for transcripts, assertions and reports. */
export interface TlsFacts {
  /** `TLSv1.3`, `TLSv1.2`, … */
  protocol: string;
  /** The cipher suite's standard name. */
  cipher: string;
  /** Whether the certificate chain and name were verified (false when verification was turned off). */
  verified: boolean;
  /** Why the certificate would not verify, when it would not (also filled when verification is off). */
  authorizationError?: string;
  /** Distinguished names as one line: `CN=mx.example.com, O=Example`. */
  subject: string;
  issuer: string;
  /** `DNS:mx.example.com, IP Address:192.0.2.1`. */
  subjectAltName?: string;
  /** ISO 8601. */
  validFrom: string;
  validTo: string;
  /** SHA-256 fingerprint of the certificate, colon-separated hex. */
  fingerprint256: string;
  /** How many certificates the chain has, the server's first, as far as it could be followed up to a self-signed one. */
  chainLength?: number;
  /** The chain reaches a self-signed certificate (sent by the server or trusted here): no intermediate is missing. */
  chainComplete?: boolean;
}
