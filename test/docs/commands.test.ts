import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { embeddedCaFile, startEmbeddedServer, type EmbeddedServer } from '../../src/server/embedded.js';
import { bin } from '../helpers/cli.js';
import { sourcePath } from '../helpers/paths.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { startDnsResponder, type DnsResponder } from '../manifest/dns-responder.js';
import { blocks, pages, shownFile, type Block, type Page } from './markdown.js';

/**
 * Every command shown in README.md and docs/*.md is run here, for real, so the documentation
 * cannot drift from the program.
 *
 * What counts as a command:
 * - in ```sh and ```bash blocks, every line (a trailing `\` joins the next one; comments are dropped);
 * - in ```console blocks, the lines that start with `$ `; the `C:` lines shown after a command are
 *   its standard input (that is how `smtpspec record` reads a session when it has no terminal);
 * - in CI recipes, the `run:` and `script:` values of ```yaml blocks, the `args:` of a container whose
 *   command is `sh -c`, and the `sh '…'` steps of ```groovy blocks.
 *
 * How each runs: with `sh -c`, in a scratch folder of its page (made afresh for each run of this file,
 * so two runs never share one, and removed afterwards) holding copies of scenarios/, schema/ and
 * examples/, every file the pages show (a ```yaml block whose first line is `# NAME.yaml`), and the
 * files the pages name but do not show (PROVIDED below). The commands of one block run one after the
 * other (a session recorded, then checked and replayed); blocks run side by side, a few commands at
 * once. A command shown again on a later page runs only where it is shown first (see onceEach). First
 * on PATH is a folder where `smtpspec` and `npx smtpspec` are the built dist/bin/smtpspec.cjs, and
 * where `npm` and `git` refuse to run.
 *
 * The documented hosts are rewritten to servers started here, on 127.0.0.1:
 * - mx.example.com, mx1.example.com, mx2.example.com and smtp.example.com, with any port, become the
 *   embedded server for the mail domain example.com; its certificate is trusted through
 *   NODE_EXTRA_CA_CERTS, as a certificate from a public CA would be;
 * - mx.example.net becomes an open relay (a mail server that accepts every recipient);
 * - `--dns-server ADDRESS` becomes a DNS server whose MX record for the mail domain example.org names
 *   127.0.0.1.
 * - `smtpspec mx` connects to the embedded server's port (`--port`), wherever the MX record points.
 * The same goes for the files the pages show: a host in a scenario's text; in a manifest, a target's
 * `host` (given the port), and a `domain` target (given the embedded server's port and the DNS server
 * above).
 * `smtpspec serve --port N` listens on a free port instead, and is stopped with Ctrl-C once it listens.
 *
 * Every command must exit 0 unless EXIT_CODES says otherwise. A command that cannot run here must be
 * in NOT_RUN, with the reason and the test that covers it instead; any other command of the pages runs.
 */

const SERVED = ['mx.example.com', 'mx1.example.com', 'mx2.example.com', 'smtp.example.com'];
const RELAY = 'mx.example.net';
const MAIL_DOMAIN = 'example.com';
/** The mail domain whose MX hosts the manifests look up. */
const LOOKED_UP = 'example.org';
const HOSTS = new RegExp(`(?<![\\w.@-])(${[...SERVED, RELAY].map((host) => host.replace(/\./g, '\\.')).join('|')})(?::\\d+)?(?![\\w.-])`, 'g');

/** Commands the pages show that exit with something else than 0. */
const EXIT_CODES: Record<string, number> = {
  /** The README's first sample: the bundled scenarios against an open relay. */
  'smtpspec run scenarios/ --target mx.example.net': 1,
  /** docs/cli.md shows a file with two mistakes. */
  'smtpspec validate relay.yaml': 2,
  /** Runs until Ctrl-C. */
  'smtpspec serve --port 2525': 130,
  /** Runs until Ctrl-C. */
  'smtpspec exporter --listen 127.0.0.1:9125 --var domain=example.com': 130,
};

interface NotRun {
  reason: string;
  /** The test (or the script) that covers the command instead, relative to the project root. */
  coveredBy: string;
}

const INSTALL: NotRun = {
  reason: 'installs a package made by npm pack into another project',
  coveredBy: 'test/package/install.test.ts',
};
const SHARDS_HERE = 'test/docs/commands.test.ts';

const NOT_RUN: Record<string, NotRun> = {
  'git clone https://<git-host>/<owner>/smtpspec.git': { reason: 'fetches the project from its host', coveredBy: 'test/package/install.test.ts' },
  'cd smtpspec': { reason: 'enters the clone made by the previous command', coveredBy: 'test/package/install.test.ts' },
  'npm install && npm start': {
    reason: 'installs from the registry and builds into the project itself; npm start runs the bundled scenarios against the embedded server',
    coveredBy: 'test/package/package.test.ts',
  },
  'npm test': { reason: 'runs every test, this one included', coveredBy: 'scripts/run-tests.mjs' },
  'npm install && npm pack': INSTALL,
  'npm install --save-dev ./vendor/smtpspec-0.1.0.tgz': INSTALL,
  'npm install --save-dev git+https://<git-host>/<owner>/smtpspec.git': INSTALL,
  'npm install --global ./smtpspec-0.1.0.tgz': INSTALL,
  'npm ci': { reason: 'installs a CI repository from the registry', coveredBy: 'test/package/install.test.ts' },
  'SMTP_USER=me@example.com SMTP_PASSWORD=secret smtpspec run examples/implicit-tls.yaml --var host=smtp.example.com': {
    reason: 'needs a submission server with TLS on port 465 and an account on it',
    coveredBy: 'test/examples/implicit-tls.test.ts',
  },
  'smtpspec run examples/lmtp.yaml --var socket=/run/dovecot/lmtp --var rcpt=alice@example.com --var full=bob@example.com': {
    reason: "needs an LMTP server's UNIX socket",
    coveredBy: 'test/examples/lmtp.test.ts',
  },
  'smtpspec run examples/sendmail-bs.yaml --var rcpt=postmaster@example.com': {
    reason: 'needs an MTA installed as /usr/sbin/sendmail',
    coveredBy: 'test/examples/sendmail-bs.test.ts',
  },
  'smtpspec run examples/proxy-xclient.yaml --target mx.example.com --var rcpt=postmaster@example.com': {
    reason: 'needs a server that reads PROXY headers and offers XCLIENT',
    coveredBy: 'test/examples/proxy-xclient.test.ts',
  },
  'smtpspec run examples/client-certificate.yaml --target smtp.example.com:587 --var rcpt=someone@example.org': {
    reason: 'needs a client certificate and a relay that asks for one',
    coveredBy: 'test/examples/client-certificate.test.ts',
  },
  'smtpspec run --check mta-sts --check dane --check fcrdns --target example.com --dns-server 127.0.0.1:53': {
    reason: 'needs a validating resolver and a mail domain that publishes MTA-STS, TLSA and PTR records; the same command runs on a test zone',
    coveredBy: 'test/checks/dns-checks.test.ts',
  },
  'npx smtpspec run submission.yaml --junit reports/submission.xml': {
    reason: "takes its credentials from the CI's secret store",
    coveredBy: SHARDS_HERE,
  },
  'npx smtpspec run fleet.yaml --shard ${{ matrix.shard }}/4 --json results-${{ matrix.shard }}.json': {
    reason: 'GitHub Actions fills in the shard; the same commands with the shards written out run on the same page',
    coveredBy: SHARDS_HERE,
  },
  'npx smtpspec merge results-*.json --junit smtp.xml': {
    reason: 'merges the shards that GitHub Actions ran; the same merge runs on the same page',
    coveredBy: SHARDS_HERE,
  },
  'smtpspec run /config/fleet.yaml --shard $((JOB_COMPLETION_INDEX + 1))/4 --json /results/shard-$JOB_COMPLETION_INDEX.json': {
    reason: 'runs in a Kubernetes pod, with its volumes; the same commands with the shards written out run on the same page',
    coveredBy: SHARDS_HERE,
  },
  'smtpspec merge /results/shard-*.json --junit /results/smtp.xml': {
    reason: "reads the Kubernetes Job's volume; the same merge runs on the same page",
    coveredBy: SHARDS_HERE,
  },
};

/** Files the pages name but do not show. */
const PROVIDED: Record<string, () => string> = {
  /** Your private CA: here, the one that signed the server's certificate. */
  'private-ca.pem': () => readFileSync(embeddedCaFile(), 'utf8'),
  /** A session kept in a file, for `smtpspec record … < commands.txt`. */
  'commands.txt': () => 'EHLO client.example.com\nMAIL FROM:<tester@example.com>\nRCPT TO:<postmaster@example.com>\nQUIT\n',
};

/**
 * Commands whose output, as shown, is checked line by line (`…` stands for lines left out):
 * all of it, its first `lines` or its `last` lines.
 */
const OUTPUT_SHOWN: { command: RegExp; lines?: number; last?: number }[] = [
  /** The README's first sample: an open relay's verdict, as it is printed. */
  { command: /^smtpspec run scenarios\/ --target mx\.example\.net$/ },
  { command: /--dry-run$/ },
  { command: /^smtpspec validate relay\.yaml$/ },
  /** Only its first line: the others show a session and where smtpspec is installed. */
  { command: /^smtpspec serve /, lines: 1 },
  /** How many steps the recorder saved, and where; the session above it is another server's. */
  { command: /^smtpspec record --target \S+ -o \S+$/, last: 1 },
  /** What validate says of the file just recorded. */
  { command: /^smtpspec validate (?:scenarios\/)?mx\.yaml$/ },
];

const DEADLINE_MS = 60_000;

interface Command {
  page: string;
  line: number;
  text: string;
  /** What the page shows the user typing after the command (the `C:` lines of a session). */
  input: string;
  /** What the page shows it printing. */
  output: string[];
}

// ---- reading the commands ----

/** Drops a `# comment` that is not inside quotes. */
function withoutComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote) {
      if (char === quote) quote = '';
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}

/** Lines with `\` continuations joined; each with the offset of its first line in the block. */
function joined(lines: string[]): { text: string; offset: number }[] {
  const out: { text: string; offset: number }[] = [];
  let pending: { text: string; offset: number } | undefined;
  lines.forEach((raw, offset) => {
    const line = pending ? raw.trim() : raw;
    const continued = line.endsWith('\\');
    const text = continued ? line.slice(0, -1).trimEnd() : line;
    pending = pending ? { text: `${pending.text} ${text}`, offset: pending.offset } : { text, offset };
    if (!continued) {
      out.push(pending);
      pending = undefined;
    }
  });
  if (pending) out.push(pending);
  return out;
}

function shellCommands(block: Block): Command[] {
  return joined(block.lines)
    .map(({ text, offset }) => ({ text: withoutComment(text.trim()), offset }))
    .filter(({ text }) => text !== '')
    .map(({ text, offset }) => ({ page: block.page, line: block.line + 1 + offset, text, input: '', output: [] }));
}

function consoleCommands(block: Block): Command[] {
  const commands: Command[] = [];
  block.lines.forEach((line, index) => {
    if (line.startsWith('$ ')) {
      commands.push({ page: block.page, line: block.line + 1 + index, text: withoutComment(line.slice(2).trim()), input: '', output: [] });
    } else if (commands.length > 0) {
      const last = commands[commands.length - 1]!;
      last.output.push(line);
      const typed = /^C:(?: (.*))?$/.exec(line);
      if (typed) last.input += `${typed[1] ?? ''}\n`;
    }
  });
  return commands;
}

/** The commands a CI recipe runs: `run:` and `script:` values, and `args:` of a `sh -c` container. */
function recipeCommands(block: Block): Command[] {
  const data: unknown = parse(block.lines.join('\n'), { uniqueKeys: false });
  const found: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    for (const key of ['run', 'script']) {
      const value = record[key];
      if (typeof value === 'string') found.push(value);
      if (Array.isArray(value)) found.push(...value.filter((item): item is string => typeof item === 'string'));
    }
    if (JSON.stringify(record.command) === '["sh","-c"]' && Array.isArray(record.args)) found.push(...record.args.map(String));
    Object.values(record).forEach(walk);
  };
  walk(data);
  return found.map((text) => ({ page: block.page, line: lineOf(block, text), text: text.trim(), input: '', output: [] }));
}

function groovyCommands(block: Block): Command[] {
  return block.lines.flatMap((line, index) =>
    [...line.matchAll(/\bsh '([^']+)'/g)].map((match) => ({ page: block.page, line: block.line + 1 + index, text: match[1]!, input: '', output: [] })),
  );
}

function lineOf(block: Block, text: string): number {
  const index = block.lines.findIndex((line) => line.includes(text.split('\n')[0]!));
  return block.line + 1 + Math.max(index, 0);
}

function commandsOf(block: Block): Command[] {
  if (block.lang === 'sh' || block.lang === 'bash') return shellCommands(block);
  if (block.lang === 'console') return consoleCommands(block);
  if (block.lang === 'yaml') return recipeCommands(block);
  if (block.lang === 'groovy') return groovyCommands(block);
  return [];
}

/** The commands of one block, which run one after the other: a session recorded, then checked and replayed. */
interface Chain {
  page: string;
  line: number;
  commands: Command[];
}

function chainsOf(page: Page): Chain[] {
  return blocks(page)
    .map((block) => ({ page: page.path, line: block.line, commands: commandsOf(block) }))
    .filter((chain) => chain.commands.length > 0);
}

/**
 * A command shown more than once (on the README and in the guide, or for GitLab and for Jenkins)
 * runs where it is shown first, and again only where a later command of its block may depend on
 * what it leaves behind.
 */
function onceEach(chains: Chain[]): Chain[] {
  const seen = new Set<string>();
  return chains
    .map((chain) => {
      const firsts = chain.commands.map((command) => !seen.has(command.text));
      for (const command of chain.commands) seen.add(command.text);
      const lastFirst = firsts.lastIndexOf(true);
      return { ...chain, commands: chain.commands.slice(0, lastFirst + 1) };
    })
    .filter((chain) => chain.commands.length > 0);
}

// ---- the servers and the scratch folders ----

let served: EmbeddedServer;
let relay: TestServer;
let dns: DnsResponder;
let scratch: string;
let env: NodeJS.ProcessEnv;

function hostPort(host: string): number {
  return host === RELAY ? relay.port : served.port;
}

/** A command as it runs here: the documented hosts become the local servers. */
function localCommand(text: string): string {
  let local = text.replace(HOSTS, (_, host: string) => `127.0.0.1:${hostPort(host)}`);
  local = local.replace(/--dns-server \S+/g, `--dns-server ${dns.host}:${dns.port}`);
  // smtpspec mx connects to each MX host on port 25 unless told: here, the embedded server's port.
  if (/^smtpspec mx\b/.test(local)) local = `${local.replace(/ --port \d+/g, '')} --port ${served.port}`;
  if (/^smtpspec serve\b/.test(local)) local = `exec ${local.replace(/--port \d+/, '--port 0')}`;
  if (/^smtpspec exporter\b/.test(local)) local = `exec ${local.replace(/--listen \S+/, '--listen 127.0.0.1:0')}`;
  return local;
}

/** A file the pages show, as it is written into a scratch folder. */
function localFile(text: string): string {
  const document = parseDocument(text);
  if (!document.has('targets')) return text.replace(HOSTS, (_, host: string) => `127.0.0.1:${hostPort(host)}`);
  const targets = (document.toJSON() as { targets: { host?: string; domain?: string }[] }).targets;
  targets.forEach((target, index) => {
    if (target.host !== undefined && [...SERVED, RELAY].includes(target.host)) {
      document.setIn(['targets', index, 'port'], hostPort(target.host));
      document.setIn(['targets', index, 'host'], '127.0.0.1');
    }
    if (target.domain !== undefined) {
      document.setIn(['targets', index, 'port'], served.port);
      document.set('dns_server', `${dns.host}:${dns.port}`);
    }
  });
  return document.toString();
}

function shownFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const block of pages().flatMap(blocks)) {
    const name = shownFile(block);
    if (name !== undefined) files.set(name, `${block.lines.join('\n')}\n`);
  }
  return files;
}

const workspaces = new Map<string, string>();

/** The scratch folder of a page, made when its first command runs. */
function workspace(page: string): string {
  const made = workspaces.get(page);
  if (made) return made;
  const dir = join(scratch, page.replace(/[^\w.-]/g, '_'));
  workspaces.set(page, dir);
  mkdirSync(dir);
  for (const folder of ['scenarios', 'schema', 'examples']) {
    if (existsSync(sourcePath(folder))) cpSync(sourcePath(folder), join(dir, folder), { recursive: true });
  }
  for (const [name, text] of shownFiles()) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), localFile(text));
  }
  for (const [name, text] of Object.entries(PROVIDED)) writeFileSync(join(dir, name), text());
  return dir;
}

function makeShims(dir: string): void {
  const shim = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  shim('smtpspec', `exec '${process.execPath}' '${bin}' "$@"`);
  // `npx smtpspec` and `npx --no -- smtpspec`: both run the installed smtpspec.
  shim('npx', 'if [ "$1" = --no ] && [ "$2" = -- ]; then shift 2; fi\nif [ "$1" = smtpspec ]; then shift; exec smtpspec "$@"; fi\necho "npx $1: only smtpspec runs here" >&2\nexit 127');
  for (const refused of ['npm', 'git']) shim(refused, `echo "${refused} is not run here: list the command in NOT_RUN" >&2\nexit 127`);
}

// ---- running one command ----

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** At most this many commands run at once, whatever the number of blocks. */
const AT_ONCE = 4;
let running = 0;
const waiting: (() => void)[] = [];

async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (running < AT_ONCE) running++;
  else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over, still counted
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

function run(command: Command, cwd: string): Promise<Outcome> {
  return inTurn(() => spawnCommand(command, cwd));
}

function spawnCommand(command: Command, cwd: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    // A process group of its own, so that a command past its deadline goes with everything it started.
    const child = spawn('sh', ['-c', localCommand(command.text)], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    const deadline = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group has gone already
      }
    }, DEADLINE_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      // A server runs until Ctrl-C: stop it once it listens (once: a second Ctrl-C quits at once).
      if (/^smtpspec (?:serve|exporter)\b/.test(command.text) && !stopped && stdout.includes('listening on')) stopped = child.kill('SIGINT');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // a command that never reads its input
    child.stdin.end(command.input);
  });
}

function expectedCode(text: string): number {
  return EXIT_CODES[text] ?? 0;
}

/** Shown and actual output compared with the clock and the server's address left out. */
function comparable(line: string): string {
  return line
    .replace(/^\[\d\d:\d\d:\d\d\]/, '[clock]')
    .replace(HOSTS, '<server>')
    .replace(/127\.0\.0\.1:\d+/g, '<server>')
    .replace(/\(\d+ ms\)/g, '(N ms)')
    .trimEnd();
}

function assertOutput(command: Command, outcome: Outcome): void {
  const rule = OUTPUT_SHOWN.find((r) => r.command.test(command.text));
  if (!rule) return;
  const kept = command.output.filter((line) => line.trim() !== '…');
  const shown = rule.last === undefined ? kept.slice(0, rule.lines) : kept.slice(-rule.last);
  const actual = `${outcome.stdout}${outcome.stderr}`.split('\n').map(comparable);
  let from = 0;
  for (const line of shown.map(comparable)) {
    const at = actual.indexOf(line, from);
    assert.ok(at >= 0, `${command.page}:${command.line}: the output shows "${line}", which is not in what it printed, in that order:\n${actual.join('\n')}`);
    from = at + 1;
  }
}

// ---- the tests ----

const chains = pages().flatMap(chainsOf);
const documented = chains.flatMap((chain) => chain.commands);
const runnable = onceEach(chains)
  .map((chain) => ({ ...chain, commands: chain.commands.filter((command) => !(command.text in NOT_RUN)) }))
  .filter((chain) => chain.commands.length > 0);

before(async () => {
  served = await startEmbeddedServer({ domain: MAIL_DOMAIN });
  relay = await startTestServer();
  dns = await startDnsResponder({ [LOOKED_UP]: { mx: [[10, '127.0.0.1']] } });
  scratch = mkdtempSync(join(tmpdir(), 'smtpspec-docs-'));
  const shims = join(scratch, 'bin');
  mkdirSync(shims);
  makeShims(shims);
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(SMTP_|FORCE_COLOR$|NO_COLOR$)/.test(name)));
  env = { ...inherited, PATH: `${shims}:${process.env.PATH ?? ''}`, NO_COLOR: '1', NODE_EXTRA_CA_CERTS: embeddedCaFile() };
});

after(async () => {
  await Promise.all([served?.close(), relay?.close(), dns?.close()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the commands in the README and docs/', () => {
  test('are found on the pages that show them', () => {
    const count = (page: string) => documented.filter((command) => command.page === page).length;
    assert.ok(count('README.md') >= 15, `README.md: ${count('README.md')}`);
    assert.ok(count('docs/guide.md') >= 15, `docs/guide.md: ${count('docs/guide.md')}`);
    assert.ok(count('docs/reports.md') >= 8, `docs/reports.md: ${count('docs/reports.md')}`);
  });

  test('that are not run here are all still shown, each with its reason and an existing test that covers it', () => {
    const shown = new Set(documented.map((command) => command.text));
    for (const [text, entry] of Object.entries(NOT_RUN)) {
      assert.ok(shown.has(text), `"${text}" is still in the documentation`);
      assert.ok(entry.reason.length > 10, text);
      assert.ok(existsSync(sourcePath(entry.coveredBy)), `${entry.coveredBy}, which covers "${text}", exists`);
    }
    for (const text of Object.keys(EXIT_CODES)) assert.ok(shown.has(text) && !(text in NOT_RUN), `"${text}" is run`);
  });

  test('that a session is typed into are given the C: lines shown', () => {
    const record = runnable.flatMap((chain) => chain.commands).filter((command) => /^smtpspec record\b/.test(command.text) && !command.text.includes('<'));
    assert.ok(record.length >= 2);
    for (const command of record) assert.match(command.input, /^EHLO .*\nQUIT\n$/s, `${command.page}:${command.line}`);
  });

  describe('run, block by block', { concurrency: true }, () => {
    for (const chain of runnable) {
      test(`${chain.page}:${chain.line}`, async (t) => {
        const cwd = workspace(chain.page);
        for (const command of chain.commands) {
          await t.test(`line ${command.line}: ${command.text}`, async () => {
            const outcome = await run(command, cwd);
            const expected = expectedCode(command.text);
            const ran = localCommand(command.text);
            assert.equal(outcome.code, expected, `${chain.page}:${command.line}: ${command.text}\nran as: ${ran}\nexit ${outcome.code}, expected ${expected}\n${outcome.stdout}\n${outcome.stderr}`);
            assertOutput(command, outcome);
          });
        }
      });
    }
  });

  test('with a manifest, looked up the MX hosts of its mail domain through the DNS server', () => {
    assert.ok(dns.queries.includes(`MX ${LOOKED_UP}`), dns.queries.join(', '));
  });
});
