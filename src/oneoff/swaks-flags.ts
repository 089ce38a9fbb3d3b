/**
 * `smtpspec send`'s flags beside swaks' (as data): the cheat sheet in docs/cli.md and `send --print-swaks`
 * are made from this table, and a test holds it against `send --help`.
 */

export interface FlagPair {
  /** The long flag of `smtpspec send`. */
  smtpspec: string;
  /** The swaks flag of the same meaning; absent for a flag only smtpspec has. */
  swaks?: string;
  /** What it does, and where the two differ. */
  meaning: string;
}

export const SWAKS_FLAGS: readonly FlagPair[] = [
  { smtpspec: '--server', swaks: '--server', meaning: 'the server, `HOST[:PORT]` (`-s`); without it, the MX of the first recipient\'s domain' },
  { smtpspec: '--port', swaks: '--port', meaning: 'the port: 25, or 465 with `--tls-on-connect`, or 24 with `--protocol lmtp`' },
  { smtpspec: '--to', swaks: '--to', meaning: 'the recipients (`-t`; repeatable, or separated by commas)' },
  { smtpspec: '--from', swaks: '--from', meaning: 'the envelope sender (`-f`; default `USER@HOSTNAME`)' },
  { smtpspec: '--helo', swaks: '--helo', meaning: 'the name in EHLO (or LHLO); default this machine\'s name' },
  { smtpspec: '--ehlo', swaks: '--ehlo', meaning: 'the same as `--helo`' },
  { smtpspec: '--tls', swaks: '--tls', meaning: 'STARTTLS, required' },
  { smtpspec: '--tls-optional', swaks: '--tls-optional', meaning: 'STARTTLS when the server offers it' },
  { smtpspec: '--tls-on-connect', swaks: '--tls-on-connect', meaning: 'TLS from the first byte (implicit TLS)' },
  { smtpspec: '--tls-verify', swaks: '--tls-verify', meaning: 'verify the certificate: smtpspec always does unless told not to; swaks does only with this flag' },
  { smtpspec: '--no-tls-verify', meaning: 'do not verify the certificate (swaks\' default); saved as `tls: { verify: false }`' },
  { smtpspec: '--ca', swaks: '--tls-ca-path', meaning: 'trust this CA certificate (PEM) too' },
  { smtpspec: '--auth', swaks: '--auth', meaning: 'AUTH with this mechanism (PLAIN, LOGIN, CRAM-MD5, XOAUTH2); smtpspec picks PLAIN when none is named, swaks any the server offers' },
  { smtpspec: '--auth-user', swaks: '--auth-user', meaning: 'the user name for AUTH (`-au`)' },
  { smtpspec: '--auth-password', swaks: '--auth-password', meaning: 'the password on the command line, where the shell\'s history keeps it; smtpspec reads `SMTP_PASSWORD` or asks on the terminal instead' },
  { smtpspec: '--header', swaks: '--header', meaning: 'a header, `"Name: value"` (repeatable); it replaces a default header of that name' },
  { smtpspec: '--body', swaks: '--body', meaning: 'the body text (swaks also takes a file name or `-` here)' },
  { smtpspec: '--data', swaks: '--data', meaning: 'the whole message from a file (swaks also takes the text itself)' },
  { smtpspec: '--attach', swaks: '--attach', meaning: 'attach a file (repeatable)' },
  { smtpspec: '--pipeline', swaks: '--pipeline', meaning: 'send MAIL, RCPT and DATA in one write (RFC 2920)' },
  { smtpspec: '--quit-after', swaks: '--quit-after', meaning: 'QUIT after `connect`/`banner`, `first-ehlo`, `tls`, `ehlo`, `auth`, `mail` or `rcpt`' },
  { smtpspec: '--ipv4', swaks: '-4', meaning: 'IPv4 only (`-4`)' },
  { smtpspec: '--ipv6', swaks: '-6', meaning: 'IPv6 only (`-6`)' },
  { smtpspec: '--local-address', swaks: '--local-interface', meaning: 'connect from this IP address of this machine (`--local-interface` is accepted too)' },
  { smtpspec: '--local-interface', swaks: '--local-interface', meaning: 'the same as `--local-address`' },
  { smtpspec: '--timeout', swaks: '--timeout', meaning: 'the deadline for connecting and each reply: `30s`, `2m`, or seconds as a bare number' },
  { smtpspec: '--dsn-rcpt-notify', swaks: '--dsn-rcpt-notify', meaning: 'DSN: NOTIFY= on every RCPT (`SUCCESS,FAILURE,DELAY` or `NEVER`)' },
  { smtpspec: '--dsn-ret', swaks: '--dsn-ret', meaning: 'DSN: RET= on MAIL (`FULL` or `HDRS`)' },
  { smtpspec: '--dsn-envid', swaks: '--dsn-envid', meaning: 'DSN: ENVID= on MAIL' },
  { smtpspec: '--dsn-rcpt-orcpt', swaks: '--dsn-rcpt-orcpt', meaning: 'DSN: ORCPT= on every RCPT' },
  { smtpspec: '--protocol', swaks: '--protocol', meaning: '`smtp` or `lmtp` (swaks also names ESMTP variants, which smtpspec tells from the flags)' },
  { smtpspec: '--socket', swaks: '--socket', meaning: 'talk over this UNIX socket' },
  { smtpspec: '--pipe', swaks: '--pipe', meaning: 'talk to this command\'s stdin/stdout (split at spaces, quotes kept together; no shell)' },
  { smtpspec: '--expect', meaning: 'hold a step to a reply: `rcpt=5xx`, `greeting=/ESMTP/` (repeatable); the exit code says whether it held' },
  { smtpspec: '--save', meaning: 'write the equivalent scenario, which `smtpspec run` replays' },
  { smtpspec: '--force', meaning: 'with `--save`: replace the file if it exists' },
  { smtpspec: '--print-swaks', meaning: 'print the equivalent swaks command instead of running' },
  { smtpspec: '--embedded', meaning: 'send to the embedded test server' },
  { smtpspec: '--dns-server', meaning: 'look the MX up with this DNS server' },
];

/** The cheat sheet of docs/cli.md: one row a flag, swaks' name beside smtpspec's. */
export function cheatSheet(): string {
  const rows = SWAKS_FLAGS.map((pair) => `| \`${pair.smtpspec}\` | ${pair.swaks ? `\`${pair.swaks}\`` : '—'} | ${pair.meaning} |`);
  return ['| smtpspec send | swaks | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** The swaks flag for a flag of `smtpspec send`, when swaks has one. */
export function swaksFlag(smtpspec: string): string | undefined {
  return SWAKS_FLAGS.find((pair) => pair.smtpspec === smtpspec)?.swaks;
}
