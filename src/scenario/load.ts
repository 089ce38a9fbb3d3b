import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { LineCounter, parseDocument, visit, type YAMLError } from 'yaml';
import { ScenarioError, UsageError, type SourceIssue, type SourcePos } from '../errors.js';
import type { ScenarioFile } from './as-written.js';
import { normalizeScenario } from './normalize.js';
import { comparePos, PositionFinder } from './positions.js';
import type { Scenario } from './types.js';
import { schemaIssues } from './validate.js';

export interface LoadOptions {
  /** Command-line variables; they win over case and file variables. */
  vars?: Record<string, string>;
  /** For `${env:NAME}`; default: process.env. */
  env?: Record<string, string | undefined>;
  /** The deadline per reply where a file, case or step sets none; default 30 s (`--timeout`). */
  defaultTimeoutMs?: number;
  /** CA certificate files trusted for every scenario (`--ca`), relative to the current folder. */
  ca?: string[];
}

/** Anchors may be reused this often in one file; more is treated as an attack (billion laughs). */
const MAX_ALIAS_COUNT = 100;

const SCENARIO_EXTENSIONS = new Set(['.yaml', '.yml']);

/** Parses, validates and normalises one scenario; throws a ScenarioError listing every problem found. */
export function parseScenario(source: string, file: string, options: LoadOptions = {}): Scenario {
  const parsed = parseYaml(source, file);
  if ('issues' in parsed) throw new ScenarioError(parsed.issues);
  const { data, positions } = parsed;
  const issues = schemaIssues(data, positions);
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    const env = options.env ?? process.env;
    const normalized = normalizeScenario(data as ScenarioFile, positions, {
      vars: options.vars ?? {},
      env,
      defaultTimeoutMs: options.defaultTimeoutMs,
      ca: (options.ca ?? []).map((path) => resolve(path)),
    });
    issues.push(...normalized.issues);
    if (issues.length === 0) return normalized.scenario;
  }
  throw new ScenarioError(sortIssues(issues));
}

/** Reads one scenario file; the path is kept as given in the result and in messages. */
export async function loadScenarioFile(path: string, options: LoadOptions = {}): Promise<Scenario> {
  const bytes = await readFile(path).catch((error: unknown) => {
    throw readError(path, error);
  });
  return parseScenario(decodeUtf8(bytes, path), path, options);
}

/**
 * Loads files and folders (searched recursively for *.yaml and *.yml, in sorted order).
 * Problems in all files are collected into one ScenarioError.
 */
export async function loadScenarios(paths: string[], options: LoadOptions = {}): Promise<Scenario[]> {
  const files = await scenarioFiles(paths);
  const scenarios: Scenario[] = [];
  const issues: SourceIssue[] = [];
  for (const file of files) {
    try {
      scenarios.push(await loadScenarioFile(file, options));
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) throw new ScenarioError(issues);
  return scenarios;
}

// ---- finding files ----

async function scenarioFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch((error: unknown) => {
      throw readError(path, error);
    });
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const found = (await filesUnder(path)).sort(byCodeUnits);
    if (found.length === 0) throw new UsageError(`no scenario files (*.yaml, *.yml) in "${path}"`);
    files.push(...found);
  }
  const seen = new Set<string>();
  return files.filter((file) => !seen.has(resolve(file)) && seen.add(resolve(file)));
}

/** Scenario files below dir; dot-folders and node_modules are skipped, symbolic links to folders are not followed. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && entry.name !== 'node_modules') found.push(...(await filesUnder(path)));
    } else if (SCENARIO_EXTENSIONS.has(extname(entry.name).toLowerCase()) && (await isFile(path))) {
      found.push(path);
    }
  }
  return found;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function readError(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    ENOTDIR: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'it is a folder',
  };
  const reason = (code && reasons[code]) ?? (error as Error).message;
  return new UsageError(`cannot read "${path}": ${reason}`);
}

// ---- bytes and YAML ----

/** UTF-8 text without a byte order mark; a ScenarioError pointing at the first bad byte otherwise. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  const bad = firstInvalidUtf8(bytes);
  if (bad < 0) return new TextDecoder('utf-8').decode(bytes);
  const lineStart = bytes.lastIndexOf(0x0a, bad - 1) + 1;
  const line = bytes.subarray(0, lineStart).filter((byte) => byte === 0x0a).length + 1;
  const col = new TextDecoder('utf-8', { ignoreBOM: line > 1 }).decode(bytes.subarray(lineStart, bad)).length + 1;
  const byte = bytes[bad]!.toString(16).toUpperCase().padStart(2, '0');
  throw new ScenarioError([{ pos: { file, line, col }, message: `the file is not UTF-8 text: byte 0x${byte} is not valid here` }]);
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const length = utf8SequenceLength(bytes, index);
    if (length === 0) return index;
    index += length;
  }
  return -1;
}

/** Length of the well-formed sequence at index (RFC 3629 table), 0 when there is none. */
function utf8SequenceLength(bytes: Uint8Array, index: number): number {
  const lead = bytes[index]!;
  if (lead < 0x80) return 1;
  const [length, secondLow, secondHigh] =
    lead >= 0xc2 && lead <= 0xdf ? [2, 0x80, 0xbf]
    : lead === 0xe0 ? [3, 0xa0, 0xbf]
    : lead === 0xed ? [3, 0x80, 0x9f]
    : lead >= 0xe1 && lead <= 0xef ? [3, 0x80, 0xbf]
    : lead === 0xf0 ? [4, 0x90, 0xbf]
    : lead >= 0xf1 && lead <= 0xf3 ? [4, 0x80, 0xbf]
    : lead === 0xf4 ? [4, 0x80, 0x8f]
    : [0, 0, 0];
  if (length === 0 || index + length > bytes.length) return 0;
  const second = bytes[index + 1]!;
  if (second < secondLow || second > secondHigh) return 0;
  for (let offset = 2; offset < length; offset++) {
    const next = bytes[index + offset]!;
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return length;
}

type ParsedYaml = { data: unknown; positions: PositionFinder } | { issues: SourceIssue[] };

function parseYaml(source: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: true, uniqueKeys: true, strict: true });
  const positions = new PositionFinder(doc, lineCounter, file);
  const nul = source.indexOf('\0');
  if (nul >= 0) return { issues: [{ pos: positions.offset(nul), message: 'the file contains a NUL byte: it is not YAML text' }] };
  if (doc.errors.length > 0) return { issues: sortIssues(doc.errors.map((error) => yamlIssue(error, source, positions))) };
  if (doc.contents === null) {
    return { issues: [{ pos: { file, line: 1, col: 1 }, message: 'the file is empty: a scenario needs at least "cases:"' }] };
  }
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), positions };
  } catch (error) {
    return { issues: [{ pos: firstAlias(doc, positions), message: aliasMessage(error) }] };
  }
}

function aliasMessage(error: unknown): string {
  const message = (error as Error).message;
  if (/alias/i.test(message)) {
    return `the YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} uses): reuse fewer anchors`;
  }
  return `the YAML cannot be read: ${message}`;
}

function firstAlias(doc: ReturnType<typeof parseDocument>, positions: PositionFinder): SourcePos {
  let pos: SourcePos = { file: positions.file, line: 1, col: 1 };
  visit(doc, {
    Alias(_, node) {
      if (node.range) pos = positions.offset(node.range[0]);
      return visit.BREAK;
    },
  });
  return pos;
}

function yamlIssue(error: YAMLError, source: string, positions: PositionFinder): SourceIssue {
  const start = error.linePos?.[0];
  const pos = start ? { file: positions.file, line: start.line, col: start.col } : positions.offset(error.pos[0]);
  return { pos, message: yamlMessage(error, source) };
}

function yamlMessage(error: YAMLError, source: string): string {
  switch (error.code) {
    case 'DUPLICATE_KEY': {
      const key = keyAt(source, error.pos[0]);
      return `duplicate key${key === undefined ? '' : ` "${key}"`}: a key may appear only once in a map`;
    }
    case 'MULTIPLE_DOCS':
      return 'the file holds more than one YAML document ("---"): a scenario file is one document';
    case 'TAB_AS_INDENT':
      return 'YAML syntax error: tabs are not allowed as indentation, use spaces';
    default: {
      // yaml appends " at line L, column C:" and a code frame; the position is reported separately.
      const sentence = (error.message.split(/ at line \d+, column \d+/)[0] ?? '').split('\n')[0]!.trim().replace(/\.$/, '');
      return `YAML syntax error: ${sentence.charAt(0).toLowerCase()}${sentence.slice(1)}`;
    }
  }
}

/** The map key written at offset, for duplicate-key messages. */
function keyAt(source: string, offset: number): string | undefined {
  const match = /^(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\n]|'')*)'|([^\n:#,{}[\]]*?))\s*:/.exec(source.slice(offset));
  if (!match) return undefined;
  return match[1] ?? match[2]?.replace(/''/g, "'") ?? match[3];
}

function sortIssues(issues: SourceIssue[]): SourceIssue[] {
  const seen = new Set<string>();
  return issues
    .filter((issue) => {
      const id = `${issue.pos.line}:${issue.pos.col}:${issue.message}`;
      return !seen.has(id) && Boolean(seen.add(id));
    })
    .sort((a, b) => comparePos(a.pos, b.pos));
}
