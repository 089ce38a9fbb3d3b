import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from './package-info.js';

/**
 * The `# yaml-language-server: $schema=` reference of a file smtpspec writes (init, record).
 * It is relative when it can be (a local install in node_modules, or a file inside this
 * package's own folder), so the file works on every machine that checks it out; otherwise it
 * is a file URL of this installation's schema.
 */

const SCHEMA_FILES = { scenario: 'scenario.schema.json', manifest: 'manifest.schema.json' } as const;

/** A relative path with forward slashes, starting with `.`, as YAML comments and shells show it. */
export function portable(path: string): string {
  const slashed = path.split(sep).join('/');
  return slashed.startsWith('.') ? slashed : `./${slashed}`;
}

function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

/** The `$schema` reference for a file written to `dir`. */
export function schemaReference(dir: string, kind: keyof typeof SCHEMA_FILES): string {
  const name = SCHEMA_FILES[kind];
  for (let folder = dir; ; folder = dirname(folder)) {
    const installed = join(folder, 'node_modules', 'smtpspec', 'schema', name);
    if (existsSync(installed)) return portable(relative(dir, installed));
    if (dirname(folder) === folder) break;
  }
  const own = join(packageRoot(), 'schema', name);
  return isInside(dir, packageRoot()) ? portable(relative(dir, own)) : pathToFileURL(own).href;
}
