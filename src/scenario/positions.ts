import type { Alias, Document, LineCounter as LineCounterType, Node, Pair, YAMLError, YAMLMap, YAMLParseError as YAMLParseErrorType } from 'yaml';
import { yaml } from '../yaml-lib.js';
import type { SourceIssue, SourcePos } from '../errors.js';

const { Composer, isAlias, isMap, isNode, isScalar, isSeq, Lexer, LineCounter, Parser, visit, YAMLParseError } = yaml;

/** A path into the parsed data: map keys and list indexes, as in a JSON pointer. */
export type DataPath = readonly (string | number)[];

/** Anchors may be reused this often in one file; more is treated as an attack (billion laughs). */
export const MAX_ALIAS_COUNT = 100;

/**
 * Collections may nest this deep. YAML's composer recurses once per level, so a file of
 * 100,000 `[` would otherwise exhaust the stack; real files need a dozen levels.
 */
export const MAX_NESTING = 64;

/** Finds where a value (or a map key) was written, for messages of the form `file:line:col`. */
export class PositionFinder {
  private readonly pairsByKey = new WeakMap<YAMLMap, Map<string, Pair>>();
  private readonly aliasTargets = new WeakMap<Alias, Node | undefined>();

  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounterType,
    readonly file: string,
  ) {}

  /** The position of the value at path; falls back to the nearest ancestor that exists. */
  at(path: DataPath): SourcePos {
    for (let length = path.length; length >= 0; length--) {
      const node = this.node(path.slice(0, length));
      if (node?.range) return this.offset(node.range[0]);
    }
    return { file: this.file, line: 1, col: 1 };
  }

  /** The position of a key in the map at path; the map's own position when the key is absent. */
  keyAt(path: DataPath, key: string): SourcePos {
    const map = this.node(path);
    if (isMap(map)) {
      const pair = this.pair(map, key);
      if (isNode(pair?.key) && pair.key.range) return this.offset(pair.key.range[0]);
    }
    return this.at(path);
  }

  /** The position of a character offset in the source. */
  offset(offset: number): SourcePos {
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line: Math.max(line, 1), col: Math.max(col, 1) };
  }

  private node(path: DataPath): Node | undefined {
    let node = this.resolve(this.doc.contents ?? undefined);
    for (const segment of path) {
      node = this.resolve(this.child(node, segment));
      if (!node) return undefined;
    }
    return node;
  }

  private child(node: Node | undefined, segment: string | number): unknown {
    if (isSeq(node)) return node.items[Number(segment)];
    if (isMap(node)) return this.pair(node, String(segment))?.value;
    return undefined;
  }

  /** The first pair with this key; maps are indexed once, so files with thousands of keys stay fast. */
  private pair(map: YAMLMap, key: string): Pair | undefined {
    let index = this.pairsByKey.get(map);
    if (!index) {
      index = new Map();
      for (const item of map.items) {
        const text = keyText(item.key);
        if (text !== undefined && !index.has(text)) index.set(text, item);
      }
      this.pairsByKey.set(map, index);
    }
    return index.get(key);
  }

  /** Resolving an alias searches the whole document, so each is resolved once. */
  private resolve(value: unknown): Node | undefined {
    if (!isAlias(value)) return isNode(value) ? value : undefined;
    if (!this.aliasTargets.has(value)) this.aliasTargets.set(value, value.resolve(this.doc));
    return this.aliasTargets.get(value);
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

// ---- parsing ----

/** More YAML syntax errors than this and the rest of the file is not read: they would be noise, and slow. */
export const MAX_SYNTAX_ERRORS = 100;

export interface YamlDocument {
  doc: Document.Parsed;
  positions: PositionFinder;
  /** The first MAX_SYNTAX_ERRORS syntax errors, in order; a second document is one of them. */
  errors: YAMLError[];
  /** Where reading stopped because there were too many errors. */
  stopped?: SourceIssue;
  /** The source has a `*`, without which YAML has no alias: a document without one needs no search for cyclic aliases. */
  mayHaveAliases: boolean;
}

export type ParsedDocument = YamlDocument | { problem: SourceIssue };

/**
 * The first YAML document of source with its syntax errors, or a problem that stops parsing
 * early: a NUL byte, line breaks YAML cannot read, collections nested too deep.
 */
export function parseYamlDocument(source: string, file: string): ParsedDocument {
  const early = unreadable(source, file);
  if (early) return { problem: early };
  const { doc, tooDeepAt, stoppedAt } = composeWatched(source);
  if (tooDeepAt !== undefined) {
    return { problem: { pos: positionIn(source, tooDeepAt, file), message: `the YAML is nested more than ${MAX_NESTING} levels deep` } };
  }
  const positions = new PositionFinder(doc, lineStarts(source), file);
  const errors = [...doc.errors, ...duplicateKeys(doc)].sort((a, b) => a.pos[0] - b.pos[0]);
  const cut = errors[MAX_SYNTAX_ERRORS]?.pos[0] ?? stoppedAt;
  const stopped = cut === undefined ? undefined : { pos: positions.offset(cut), message: TOO_MANY_ERRORS };
  return { doc, positions, errors: errors.slice(0, MAX_SYNTAX_ERRORS), ...(stopped ? { stopped } : {}), mayHaveAliases: source.includes('*') };
}

interface Composed {
  doc: Document.Parsed;
  /** Where collections began to nest too deep; the document is then incomplete. */
  tooDeepAt?: number;
  /** Where reading stopped after too many syntax errors. */
  stoppedAt?: number;
}

/** What parseDocument does, one lexical token at a time, so that nesting and errors can be watched. */
function composeWatched(source: string): Composed {
  const parser = new Parser();
  const watched: Omit<Composed, 'doc'> = {};
  let parserErrors = 0;
  function* tokens() {
    for (const lexeme of new Lexer().lex(source)) {
      const offset = parser.offset;
      for (const token of parser.next(lexeme)) {
        if (token.type === 'error') parserErrors += 1;
        yield token;
      }
      if (parser.stack.length > MAX_NESTING + 1) {
        watched.tooDeepAt = offset;
        return;
      }
      if (parserErrors > MAX_SYNTAX_ERRORS) {
        watched.stoppedAt = offset;
        return;
      }
    }
    yield* parser.end();
  }
  // The composer's own check for duplicate keys compares each key with every earlier one;
  // logLevel 'error' keeps its warnings (keys that are collections) off stderr.
  const composer = new Composer({ uniqueKeys: false, strict: true, logLevel: 'error' });
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(tokens(), true, source.length)) {
    if (!doc) {
      doc = next;
      continue;
    }
    doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents'));
    break;
  }
  // compose(…, forceDoc = true) always yields a document.
  return { doc: doc!, ...watched };
}

const TOO_MANY_ERRORS = `too many YAML errors (more than ${MAX_SYNTAX_ERRORS}): the rest of the file is not checked`;

/** Text the YAML parser would misread: a NUL byte, or lines that end in CR alone. */
function unreadable(source: string, file: string): SourceIssue | undefined {
  const nul = source.indexOf('\0');
  if (nul >= 0) return { pos: positionIn(source, nul, file), message: 'the file contains a NUL byte: it is not YAML text' };
  // YAML takes CR alone as a line break, the parser does not: one long line of confusing errors.
  const cr = /\r(?!\n|$)/.exec(source);
  if (cr && !source.includes('\n')) {
    return { pos: positionIn(source, cr.index, file), message: 'the lines of the file end in CR alone: save it with LF or CRLF line endings' };
  }
  return undefined;
}

/**
 * Every line of the source, counted from the text itself: the parser's own count misses
 * line breaks inside some tokens after a syntax error, and positions drift from there.
 */
function lineStarts(source: string): LineCounterType {
  const lineCounter = new LineCounter();
  lineCounter.addNewLine(0);
  for (let at = source.indexOf('\n'); at >= 0; at = source.indexOf('\n', at + 1)) lineCounter.addNewLine(at + 1);
  return lineCounter;
}

/**
 * Keys written twice in one map, found in one pass (the composer's own check compares each key
 * with every earlier one): the same test, equal scalar values. At most one more than is reported.
 */
function duplicateKeys(doc: Document): YAMLParseErrorType[] {
  const errors: YAMLParseErrorType[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        if (!isScalar(key) || !key.range) continue;
        if (seen.has(key.value)) errors.push(new YAMLParseError([key.range[0], key.range[1]], 'DUPLICATE_KEY', 'Map keys must be unique'));
        seen.add(key.value);
        if (errors.length > MAX_SYNTAX_ERRORS) return visit.BREAK;
      }
      return undefined;
    },
  });
  return errors;
}

/** The document as plain data, or a problem when its aliases expand too far or do not resolve. */
export function yamlData({ doc, positions, mayHaveAliases }: YamlDocument): { data: unknown } | { problem: SourceIssue } {
  const cyclic = mayHaveAliases ? cyclicAlias(doc) : undefined;
  if (cyclic?.range) {
    const message = `the YAML alias *${cyclic.source} is inside the value it names, so that value would never end`;
    return { problem: { pos: positions.offset(cyclic.range[0]), message } };
  }
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const alias = aliasToBlame(doc);
    const pos = alias?.range ? positions.offset(alias.range[0]) : { file: positions.file, line: 1, col: 1 };
    if (/excessive alias count/i.test(message)) {
      return { problem: { pos, message: `the YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} uses): reuse fewer anchors` } };
    }
    return { problem: { pos, message: `the YAML cannot be read: ${firstLine(message)}` } };
  }
}

/** An alias inside the node it refers to (`when: &w { not: *w }`): its data would contain itself. */
function cyclicAlias(doc: Document): Alias | undefined {
  const anchored = new Map<string, Node>();
  let found: Alias | undefined;
  visit(doc, {
    Node(_, node, path) {
      if (!isAlias(node)) {
        if (node.anchor) anchored.set(node.anchor, node);
        return undefined;
      }
      const target = anchored.get(node.source);
      if (!target || !path.includes(target)) return undefined;
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

/** The first alias whose anchor is not written before it, or else the first alias. */
function aliasToBlame(doc: Document): Alias | undefined {
  const anchors = new Set<string>();
  let first: Alias | undefined;
  let unresolved: Alias | undefined;
  visit(doc, {
    Node(_, node) {
      if (isAlias(node)) {
        first ??= node;
        if (!anchors.has(node.source)) {
          unresolved = node;
          return visit.BREAK;
        }
      } else if (node.anchor) {
        anchors.add(node.anchor);
      }
      return undefined;
    },
  });
  return unresolved ?? first;
}

/** Line and column of an offset, counted directly (for problems found before a LineCounter is complete). */
export function positionIn(source: string, offset: number, file: string): SourcePos {
  let line = 1;
  let lineStart = 0;
  for (let at = source.indexOf('\n'); at >= 0 && at < offset; at = source.indexOf('\n', at + 1)) {
    line += 1;
    lineStart = at + 1;
  }
  return { file, line, col: offset - lineStart + 1 };
}

/** The first line of a library's message, without a trailing period. */
export function firstLine(message: string): string {
  return (message.split(/\r?\n|\r/)[0] ?? '').trim().replace(/\.$/, '');
}

/** Splits an ajv instancePath (`/cases/0/steps/1`) into segments; list indexes become numbers. */
export function pathFromPointer(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : segment));
}

/** Orders positions by line, then column. */
export function comparePos(a: SourcePos, b: SourcePos): number {
  return a.line - b.line || a.col - b.col;
}
