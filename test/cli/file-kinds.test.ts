import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smtpspec } from '../helpers/cli.js';
import { testCertificates, type TestCertificates } from '../helpers/certs.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';

/**
 * Every kind of file smtpspec reads is refused, at once and in one sentence, when it is a FIFO
 * (no writer: opening it must not wait for one), a device that never ends, or a folder.
 * Each check runs `validate` in its own process, awaited under a deadline it must not reach.
 */

let dir: string;
let certs: TestCertificates;
let fifo: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'smtpspec-kinds-'));
  certs = await testCertificates();
  mkdirSync(join(dir, 'folder'));
  fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const STEPS = 'target: 127.0.0.1:25\ncases:\n  - name: c\n    steps:\n      - expect: 220\n';

/** The files that name `path` as each kind, and the arguments to check them. */
const KINDS: Record<string, (path: string) => string[]> = {
  scenario: (path) => ['validate', path],
  // Included files are looked for under the scenario's folder unless --include-root allows more.
  include: (path) => ['validate', write('include.yaml', `${STEPS}      - include: ${JSON.stringify(path)}\n`), '--include-root', '/'],
  'message file': (path) => ['validate', write('message.yaml', `${STEPS}      - data: { file: ${JSON.stringify(path)} }\n`)],
  attachment: (path) => ['validate', write('attachment.yaml', `${STEPS}      - data: { headers: { Subject: x }, body: y, attachments: [{ file: ${JSON.stringify(path)} }] }\n`)],
  'CA certificate': (path) => ['validate', write('ca.yaml', `tls: { ca: ${JSON.stringify(path)} }\n${STEPS}`)],
  'client certificate': (path) => ['validate', write('cert.yaml', `tls: { cert: ${JSON.stringify(path)}, key: ${JSON.stringify(certs.client.keyPath)} }\n${STEPS}`)],
  'client key': (path) => ['validate', write('key.yaml', `tls: { cert: ${JSON.stringify(certs.client.certPath)}, key: ${JSON.stringify(path)} }\n${STEPS}`)],
  'manifest CA certificate': (path) => {
    write('plain.yaml', STEPS);
    return ['validate', write('fleet.yaml', `scenarios: [plain.yaml]\ntargets:\n  - host: a.example.com\n    tls: { ca: ${JSON.stringify(path)} }\n`)];
  },
  '--ca': (path) => ['validate', write('plain.yaml', STEPS), '--ca', path],
};

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

/** What is refused, and how it is said. */
const REFUSED: { name: string; path: () => string; reason: RegExp }[] = [
  { name: 'a FIFO without a writer', path: () => fifo, reason: /not a regular file \(a FIFO\)/ },
  { name: '/dev/zero', path: () => '/dev/zero', reason: /not a regular file \(a character device\)/ },
  { name: 'a folder', path: () => join(dir, 'folder'), reason: /it is a folder/ },
];

describe('files that are not regular files are refused, never waited on or read without end', () => {
  for (const [kind, args] of Object.entries(KINDS)) {
    for (const refused of REFUSED) {
      // A folder named as a scenario is searched, not refused.
      if (kind === 'scenario' && refused.name === 'a folder') continue;
      test(`${kind}: ${refused.name}`, { timeout: GENEROUS_MS * 2 }, async () => {
        const path = refused.path();
        const result = await smtpspec(args(path), { cwd: dir });
        assert.equal(result.code, 2, `exit code (stderr: ${result.stderr})`);
        const first = result.stderr.split('\n')[0]!;
        // A FIFO given to --ca is read as a pipe (`--ca <(cat ca.pem)`): one without a writer gives nothing.
        const reason = kind === '--ca' && refused.name === 'a FIFO without a writer' ? /the pipe is empty: nothing was written to it/ : refused.reason;
        assert.match(first, reason);
        if (kind === '--ca') assert.ok(first.startsWith(`smtpspec: --ca ${path}: `), first);
        else if (kind !== 'scenario') assert.match(first, /^\/\S+\.yaml:\d+:\d+: /, 'the position in the file that names it');
        assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
      });
    }
  }
});
