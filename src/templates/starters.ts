/**
 * The files `smtpspec init` writes. Each must pass `smtpspec validate` as written, and run
 * once a target is filled in: the tests check both.
 */

export interface StarterOptions {
  /** The `$schema` reference for editors: a relative path or a file URL. */
  schema: string;
  /** The file's name as the user gave it, for the commands in the comments. */
  file: string;
  /** `host[:port]`, already quoted for YAML when it needs to be. */
  target?: string;
}

function targetLine(target: string | undefined): string {
  if (target === undefined) return '# target: mx.example.com:25       # the server to test; or pass --target host[:port]';
  return `target: ${target}                  # --target on the command line overrides it`;
}

export function starterScenario(options: StarterOptions): string {
  const run = options.target === undefined ? `smtpspec run ${options.file} --target mx.example.com` : `smtpspec run ${options.file}`;
  return `# yaml-language-server: $schema=${options.schema}
#
# A starter smtpspec scenario: the classic "telnet to port 25" test, written down.
#   check it, connecting to nothing:  smtpspec validate ${options.file}
#   see what it would send:           ${run} --dry-run
#   run it:                           ${run} --var rcpt=you@your.domain
# A case is one SMTP session; it stops at its first step that does not pass.
name: My mail server
${targetLine(options.target)}
timeout: 30s                       # deadline for connecting and for each reply
tags: [smoke]                      # for --tag
vars:                              # used below as \${name}; --var name=value overrides them
  client: client.example.com
  sender: smtpspec@example.com
  rcpt: postmaster@example.com
cases:
  - name: accepts a message for a local recipient
    steps:
      - expect: 220                # the greeting: only read a reply
        text: /SMTP/               # a /regex/ or a plain substring of the reply text
      - send: EHLO \${client}
        expect: 250
      - send: MAIL FROM:<\${sender}>
        expect: 250
      - send: RCPT TO:<\${rcpt}>
        expect: [250, 251]         # any one of them
      - send: DATA
        expect: 354
      - data: |                    # LF becomes CRLF; the final "." is added
          From: <\${sender}>
          To: <\${rcpt}>
          Subject: smtpspec test message

          This message was sent by smtpspec.
        expect: 250
      - send: QUIT
        expect: 221

  # More to try: uncomment a case (the schema describes every key).
  # - name: refuses to relay
  #   steps:
  #     - expect: 220
  #     - send: EHLO \${client}
  #       expect: 250
  #     - send: MAIL FROM:<\${sender}>
  #       expect: 250
  #     - send: RCPT TO:<someone@elsewhere.invalid>
  #       expect: [5xx, 4xx 4.7.x]   # code patterns; 4.7.x is an enhanced status code (Postfix: 454 4.7.1)
  #     - send: QUIT
  #       expect: 221
  #
  # For a submission server (port 587); set SMTP_USER and SMTP_PASSWORD before running it.
  # - name: takes a password after STARTTLS
  #   steps:
  #     - expect: 220
  #     - send: EHLO \${client}
  #       expect: 250
  #     - starttls: true             # the certificate must verify for the target host
  #     - send: EHLO \${client}
  #       expect: 250
  #     - auth: { mechanism: PLAIN, username: "\${env:SMTP_USER}", password: "\${env:SMTP_PASSWORD}" }
  #       expect: 235                # values from the environment are masked in every report
  #     - send: QUIT
  #       expect: 221
`;
}

export interface ManifestStarterOptions extends StarterOptions {
  /** The scenario file the manifest runs, relative to the manifest. */
  scenario: string;
  /** Host and port written for the first target, already quoted for YAML. */
  host?: string;
  port?: number;
}

export function starterManifest(options: ManifestStarterOptions): string {
  const host = options.host ?? 'mx1.example.com';
  const port = options.port !== undefined && options.port !== 25 ? `\n    port: ${options.port}` : '';
  return `# yaml-language-server: $schema=${options.schema}
#
# A starter smtpspec manifest: the same scenarios against several servers.
#   check it and its scenarios:  smtpspec validate ${options.file}
#   list the work, no network:   smtpspec list ${options.file}
#   run it:                      smtpspec run ${options.file} --concurrency 8
#   only some targets:           smtpspec run ${options.file} --target eu
scenarios: [${options.scenario}]            # files, folders or patterns (checks/*.yaml), relative to this file; init writes this one
defaults:
  timeout: 30s
  vars:                            # for every target; a target's own vars win
    rcpt: postmaster@example.com
targets:
  - name: primary                  # shown in reports; --target picks targets by name or tag
    host: ${host}${port}
    tags: [eu]
  # - name: backup
  #   host: mx2.example.com
  #   port: 587
  # - name: example.com            # every MX host of a mail domain, looked up at run time
  #   domain: example.com
`;
}
