import { readdirSync, statSync, type Dirent } from 'node:fs';
import { isAbsolute, join, parse, resolve } from 'node:path';

/**
 * File name patterns, for shells that do not expand them (Windows) and for manifests:
 * `*` and `?` within one name, `[abc]`, `[a-z]`, `[!abc]`, `{one,two}`, and `**` for any
 * number of folders. As in shells, a name starting with a dot is matched only by a part of
 * the pattern that starts with one; node_modules is matched only by a plain part naming it, and
 * `**` skips it, as folder arguments do.
 * On POSIX a backslash makes the next character plain; on Windows it separates folders.
 */

const WINDOWS = process.platform === 'win32';
const MAGIC = WINDOWS ? /[*?[{]/ : /[*?[{\\]/;

/** Whether a folder found by `**` or in a folder argument is searched: dot-folders and node_modules are not. */
export function isSearchedFolder(name: string): boolean {
  return !name.startsWith('.') && name !== 'node_modules';
}

/** Whether `path` is a pattern rather than a plain path. */
export function isPattern(path: string): boolean {
  return MAGIC.test(path);
}

/**
 * Files and folders matching `pattern`, sorted, each written the way the pattern is (relative
 * patterns give paths relative to `cwd`, which is where they are looked for).
 */
export function expandPattern(pattern: string, cwd: string): string[] {
  const found = new Set<string>();
  for (const alternative of expandBraces(pattern)) {
    const { root, parts } = split(alternative);
    walk(root, resolve(cwd, root || '.'), parts, found);
  }
  return [...found].sort(byCodeUnits);
}

/** Sorted by UTF-16 code units: the same order on every machine, whatever its locale. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `a{b,c}d` → `abd`, `acd`; nested and multiple braces too. A brace without a comma is kept as written. */
export function expandBraces(pattern: string): string[] {
  const open = findBraceGroup(pattern);
  if (!open) return [pattern];
  const { start, end, options } = open;
  return options.flatMap((option) => expandBraces(pattern.slice(0, start) + option + pattern.slice(end + 1)));
}

function findBraceGroup(pattern: string): { start: number; end: number; options: string[] } | undefined {
  for (let start = 0; start < pattern.length; start++) {
    if (!WINDOWS && pattern[start] === '\\') {
      start++;
      continue;
    }
    if (pattern[start] !== '{') continue;
    let depth = 0;
    let from = start + 1;
    const options: string[] = [];
    for (let i = start; i < pattern.length; i++) {
      const char = pattern[i];
      if (!WINDOWS && char === '\\') i++;
      else if (char === '{') depth++;
      else if (char === ',' && depth === 1) {
        options.push(pattern.slice(from, i));
        from = i + 1;
      } else if (char === '}' && --depth === 0) {
        if (options.length === 0) break;
        options.push(pattern.slice(from, i));
        return { start, end: i, options };
      }
    }
  }
  return undefined;
}

/** The plain start of the pattern (a root, or nothing), and its parts, one per name. */
function split(pattern: string): { root: string; parts: string[] } {
  const root = isAbsolute(pattern) ? parse(pattern).root : '';
  const parts = pattern.slice(root.length).split(WINDOWS ? /[\\/]+/ : /\/+/).filter((part) => part !== '' && part !== '.');
  return { root, parts };
}

/** Visits what `parts` match below `dir` (written `shown`), adding the matches to `found`. */
function walk(shown: string, dir: string, parts: readonly string[], found: Set<string>): void {
  if (parts.length === 0) {
    if (shown !== '') found.add(shown);
    return;
  }
  const [part, ...rest] = parts as [string, ...string[]];
  if (part === '**') {
    walk(shown, dir, rest, found);
    for (const entry of entries(dir)) {
      if (entry.isDirectory() && isSearchedFolder(entry.name)) {
        walk(join(shown, entry.name), join(dir, entry.name), parts, found);
      }
    }
    return;
  }
  if (!isPattern(part)) {
    const name = unescape(part);
    if (rest.length === 0 ? exists(join(dir, name)) : isFolder(join(dir, name))) walk(join(shown, name), join(dir, name), rest, found);
    return;
  }
  const matches = partMatcher(part);
  for (const entry of entries(dir)) {
    // Only a plain part names node_modules: `*` would otherwise search every package's files.
    if (!matches(entry.name) || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    // Folders reached through a symbolic link count as folders here, as in shells.
    if (rest.length === 0 || entry.isDirectory() || (entry.isSymbolicLink() && isFolder(path))) walk(join(shown, entry.name), path, rest, found);
  }
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function unescape(part: string): string {
  return WINDOWS ? part : part.replace(/\\(.)/g, '$1');
}

/** A test for one name against one part of a pattern. */
export function partMatcher(part: string): (name: string) => boolean {
  const regex = new RegExp(`^${partSource(part)}$`, WINDOWS ? 'i' : '');
  const dotAllowed = part.startsWith('.') || (!WINDOWS && part.startsWith('\\.'));
  return (name) => (dotAllowed || !name.startsWith('.')) && regex.test(name);
}

function partSource(part: string): string {
  let source = '';
  for (let i = 0; i < part.length; i++) {
    const char = part[i]!;
    if (char === '\\' && !WINDOWS && i + 1 < part.length) source += escapeRegex(part[++i]!);
    else if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const end = part.indexOf(']', i + 2);
      if (end === -1) source += '\\[';
      else {
        source += characterClass(part.slice(i + 1, end));
        i = end;
      }
    } else source += escapeRegex(char);
  }
  return source;
}

/** `[abc]`, `[a-z]`, `[!abc]` (or `[^abc]`) as a regular expression class. */
function characterClass(body: string): string {
  const negated = body.startsWith('!') || body.startsWith('^');
  const members = (negated ? body.slice(1) : body).replace(/[\\\]^]/g, '\\$&');
  return `[${negated ? '^' : ''}${members}]`;
}

function escapeRegex(char: string): string {
  return char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
