import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import type { SourceIssue } from '../errors.js';
import { comparePos, PositionFinder } from '../scenario/positions.js';

/** Anchors may be reused this often in one file; more is treated as an attack (billion laughs). */
const MAX_ALIAS_COUNT = 100;

export type ParsedYaml = { data: unknown; positions: PositionFinder } | { issues: SourceIssue[] };

/**
 * One YAML document with a way back from data paths to `file:line:col`.
 * Syntax errors, duplicate keys, several documents and an empty file become issues.
 */
export function parseYamlWithPositions(source: string, file: string, emptyMessage: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: true, uniqueKeys: true, strict: true });
  const positions = new PositionFinder(doc, lineCounter, file);
  const nul = source.indexOf('\0');
  if (nul >= 0) return { issues: [{ pos: positions.offset(nul), message: 'the file contains a NUL byte: it is not YAML text' }] };
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((error) => ({ pos: positions.offset(error.pos[0]), message: yamlMessage(error) }));
    return { issues: issues.sort((a, b) => comparePos(a.pos, b.pos)) };
  }
  if (doc.contents === null) return { issues: [{ pos: { file, line: 1, col: 1 }, message: emptyMessage }] };
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), positions };
  } catch (error) {
    return { issues: [{ pos: { file, line: 1, col: 1 }, message: `the YAML cannot be read: ${(error as Error).message}` }] };
  }
}

function yamlMessage(error: YAMLError): string {
  switch (error.code) {
    case 'DUPLICATE_KEY':
      return 'duplicate key: a key may appear only once in a map';
    case 'MULTIPLE_DOCS':
      return 'the file holds more than one YAML document ("---"): a manifest is one document';
    case 'TAB_AS_INDENT':
      return 'YAML syntax error: tabs are not allowed as indentation, use spaces';
    default: {
      // yaml appends " at line L, column C:" and a code frame; the position is reported separately.
      const sentence = (error.message.split(/ at line \d+, column \d+/)[0] ?? '').split('\n')[0]!.trim().replace(/\.$/, '');
      return `YAML syntax error: ${sentence.charAt(0).toLowerCase()}${sentence.slice(1)}`;
    }
  }
}
