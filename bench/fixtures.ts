import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The files the whole-command benchmarks run: scenario files, manifests and messages, written to a folder. */

export const FROM = 'bench@bench.invalid';
export const TO = 'user@example.test';
export const SHORT_TEXT = 'Subject: bench\n\nA short message.\n';
/** The number of scenario files of a manifest. */
export const MANIFEST_FILES = 5;

/** One case: the classic transaction, as the floor client does it. */
export function classicCase(name: string, data: string, helo = 'bench.invalid'): string {
  return `  - name: ${name}
    steps:
      - expect: 220
      - send: EHLO ${helo}
        expect: 250
      - send: MAIL FROM:<${FROM}>
        expect: 250
      - send: RCPT TO:<${TO}>
        expect: 250
      - send: DATA
        expect: 354
      - data: ${data}
        expect: 250
      - send: QUIT
        expect: 221
`;
}

const SHORT_DATA = JSON.stringify(SHORT_TEXT);

/** A scenario file of `cases` classic cases against 127.0.0.1:port; returns its path. */
export async function scenarioFile(dir: string, port: number, cases: number, data = SHORT_DATA): Promise<string> {
  const body = Array.from({ length: cases }, (_, n) => classicCase(`classic transaction ${n + 1}`, data)).join('');
  const path = join(dir, `file-${cases}.yaml`);
  await writeFile(path, `name: bench file\ntarget: 127.0.0.1:${port}\ntimeout: 60s\ncases:\n${body}`);
  return path;
}

/**
 * A manifest of `targets` targets, all the sink on 127.0.0.1:port under different names, and
 * MANIFEST_FILES scenario files of one case each (a little different from one another); target n runs
 * file n mod MANIFEST_FILES, so the run has one session per target. Returns the manifest's path.
 */
export async function manifest(dir: string, port: number, targets: number): Promise<string> {
  for (let file = 0; file < MANIFEST_FILES; file++) {
    await writeFile(join(dir, `scenario-${file}.yaml`), `name: bench scenario ${file}\ntimeout: 60s\ncases:\n${classicCase(`classic transaction`, SHORT_DATA, `client-${file}.bench.invalid`)}`);
  }
  const lines = Array.from({ length: targets }, (_, n) => `  - { name: mx${n + 1}, host: 127.0.0.1, port: ${port}, tags: [t${n % 10}], scenarios: [scenario-${n % MANIFEST_FILES}.yaml] }\n`);
  const path = join(dir, `manifest-${targets}.yaml`);
  await writeFile(path, `defaults:\n  timeout: 60s\ntargets:\n${lines.join('')}`);
  return path;
}

/** A message of `megabytes` MiB: CRLF lines of 76 characters, every tenth starting with a dot. */
export function writeMessage(path: string, megabytes: number): Promise<void> {
  const line = (n: number): string => `${n % 10 === 0 ? '.' : 'x'}${'0123456789'.repeat(8).slice(0, 75)}\r\n`;
  const block = Buffer.from(`Subject: stream\r\n\r\n${Array.from({ length: 13_000 }, (_, n) => line(n)).join('')}`.slice(0, 1 << 20));
  const cut = block.lastIndexOf('\r\n') + 2;
  const chunk = block.subarray(0, cut);
  return new Promise((resolve, reject) => {
    const out = createWriteStream(path);
    out.on('error', reject);
    let written = 0;
    const more = (): void => {
      while (written < megabytes * (1 << 20)) {
        written += chunk.length;
        if (!out.write(chunk)) return void out.once('drain', more);
      }
      out.end(resolve);
    };
    more();
  });
}
