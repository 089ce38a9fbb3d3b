import type { YAMLError } from 'yaml';
import type { SourceIssue } from '../errors.js';
import { sourceSizeIssue, syntaxMessage } from '../scenario/load.js';
import { parseYamlDocument, yamlData, type PositionFinder } from '../scenario/positions.js';

export type ParsedYaml = { data: unknown; positions: PositionFinder } | { issues: SourceIssue[] };

/**
 * One YAML document with a way back from data paths to `file:line:col`, within the limits
 * scenario files have (size, nesting, aliases). Syntax errors, duplicate keys, several
 * documents and an empty file become issues.
 */
export function parseYamlWithPositions(source: string, file: string, emptyMessage: string): ParsedYaml {
  const tooBig = sourceSizeIssue(source, file, 'manifests');
  if (tooBig) return { issues: [tooBig] };
  const parsed = parseYamlDocument(source, file);
  if ('problem' in parsed) return { issues: [parsed.problem] };
  const { doc, positions, errors, stopped } = parsed;
  if (errors.length > 0 || stopped) {
    const issues = errors.map((error) => ({ pos: positions.offset(error.pos[0]), message: yamlMessage(error) }));
    return { issues: [...issues, ...(stopped ? [stopped] : [])] };
  }
  if (doc.contents === null) return { issues: [{ pos: { file, line: 1, col: 1 }, message: emptyMessage }] };
  const data = yamlData(doc, positions);
  return 'problem' in data ? { issues: [data.problem] } : { data: data.data, positions };
}

function yamlMessage(error: YAMLError): string {
  switch (error.code) {
    case 'DUPLICATE_KEY':
      return 'duplicate key: a key may appear only once in a map';
    case 'MULTIPLE_DOCS':
      return 'the file holds more than one YAML document ("---"): a manifest is one document';
    case 'TAB_AS_INDENT':
      return 'YAML syntax error: tabs are not allowed as indentation, use spaces';
    default:
      return syntaxMessage(error);
  }
}
