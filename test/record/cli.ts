import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { sourcePath } from '../helpers/paths.js';

/** The date, the port and the schema path change from run to run; everything else must not. */
export function normalise(text: string, port: number): string {
  return text
    .replace(/^# yaml-language-server: \$schema=.*$/m, '# yaml-language-server: $schema=<schema>')
    .replace(/ on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /, ' on <date> ')
    .replaceAll(`127.0.0.1:${port}`, '127.0.0.1:<port>');
}

/** Compares with a golden file in fixtures/; UPDATE_GOLDEN=1 rewrites it instead. */
export function assertGolden(name: string, actual: string): void {
  const path = sourcePath('test/record/fixtures', name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, actual);
  assert.equal(actual, readFileSync(path, 'utf8'), `differs from ${name}`);
}
