import type { YAMLError } from 'yaml';
import { ScenarioError, type SourceIssue } from '../errors.js';
import { FileReadError, LIMITS, readFileWithinAsync } from '../read-file.js';
import { MAX_FILE_BYTES, readError } from './files.js';
import { comparePos, firstLine, parseYamlDocument, yamlData, type PositionFinder, type YamlDocument } from './positions.js';

/**
 * The YAML front end of scenario files, included files and manifests: reading a file within
 * the size limit, decoding UTF-8, parsing one document with positions, and problems as
 * `file:line:col` issues.
 */

/** What a file is, for messages: "scenario files may be at most 5 MB". */
export type FileKind = 'scenario files' | 'manifests' | 'included files';

// ---- reading a file ----

/**
 * The text of a scenario file or manifest: a regular file within the size limit (a FIFO or a
 * device is refused, never waited on), decoded as UTF-8.
 */
export async function readSourceFile(path: string, kind: FileKind): Promise<string> {
  try {
    return decodeUtf8(await readFileWithinAsync(path, LIMITS.scenario), path);
  } catch (error) {
    throw sourceReadError(path, error, kind);
  }
}

function sourceReadError(path: string, error: unknown, kind: FileKind): Error {
  if (!(error instanceof FileReadError)) return error instanceof ScenarioError ? error : readError(path, error);
  if (error.problem.reason === 'too-big') return new ScenarioError([sizeIssue(path, error.problem.bytes, kind)]);
  return readError(path, error);
}

/** The problem of a file over the size limit; its size is unknown when it was not a regular file. */
export function sizeIssue(file: string, bytes: number | undefined, kind: FileKind): SourceIssue {
  const size = bytes === undefined ? `more than ${megabytes(MAX_FILE_BYTES)}` : megabytes(bytes);
  return { pos: { file, line: 1, col: 1 }, message: `the file is ${size}; ${kind} may be at most ${megabytes(MAX_FILE_BYTES)}` };
}

/** A source given as text: the same limit, counted in UTF-8 bytes as the file would hold them. */
function sourceSizeIssue(source: string, file: string, kind: FileKind): SourceIssue | undefined {
  // Each UTF-16 code unit is at most 3 bytes of UTF-8, so most sources need no count.
  if (source.length * 3 <= MAX_FILE_BYTES) return undefined;
  const bytes = Buffer.byteLength(source, 'utf8');
  return bytes > MAX_FILE_BYTES ? sizeIssue(file, bytes, kind) : undefined;
}

/** Rounded up to a tenth, so a file just over the limit does not read as exactly at it. */
function megabytes(bytes: number): string {
  const tenths = Math.ceil((bytes * 10) / (1024 * 1024));
  return `${tenths % 10 === 0 ? tenths / 10 : (tenths / 10).toFixed(1)} MB`;
}

// ---- bytes ----

const BYTE_ORDER_MARKS: [number[], string][] = [
  [[0x00, 0x00, 0xfe, 0xff], 'UTF-32'],
  [[0xff, 0xfe, 0x00, 0x00], 'UTF-32'],
  [[0xfe, 0xff], 'UTF-16'],
  [[0xff, 0xfe], 'UTF-16'],
];

/** UTF-8 text without a byte order mark; a ScenarioError pointing at the first bad byte otherwise. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  const bom = BYTE_ORDER_MARKS.find(([mark]) => mark.every((byte, index) => bytes[index] === byte));
  if (bom) {
    const message = `the file is ${bom[1]} text (it starts with a ${bom[1]} byte order mark): save it as UTF-8`;
    throw new ScenarioError([{ pos: { file, line: 1, col: 1 }, message }]);
  }
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

// ---- YAML ----

/** What a source is, for its messages. */
export interface SourceKind {
  /** "scenario files may be at most 5 MB". */
  files: FileKind;
  /** "the file holds more than one YAML document: a scenario file is one document". */
  document: string;
  /** The problem of an empty file. */
  empty: string;
}

export type ParsedYaml = { data: unknown; positions: PositionFinder } | { issues: SourceIssue[] };

/**
 * One YAML document with a way back from data paths to `file:line:col`, within the limits
 * (size, nesting, aliases); `document`, when given, is source already parsed with parseYamlDocument. Syntax errors, duplicate keys, several documents and an empty
 * file become issues.
 */
export function parseYamlSource(source: string, file: string, kind: SourceKind, document?: YamlDocument): ParsedYaml {
  const tooBig = sourceSizeIssue(source, file, kind.files);
  if (tooBig) return { issues: [tooBig] };
  const parsed = document ?? parseYamlDocument(source, file);
  if ('problem' in parsed) return { issues: [parsed.problem] };
  const { doc, positions, errors, stopped } = parsed;
  if (errors.length > 0 || stopped) {
    const issues = errors.map((error) => ({ pos: positions.offset(error.pos[0]), message: yamlMessage(error, source, kind) }));
    return { issues: [...issues, ...(stopped ? [stopped] : [])] };
  }
  if (doc.contents === null) return { issues: [{ pos: { file, line: 1, col: 1 }, message: kind.empty }] };
  const data = yamlData(parsed);
  return 'problem' in data ? { issues: [data.problem] } : { data: data.data, positions };
}

function yamlMessage(error: YAMLError, source: string, kind: SourceKind): string {
  switch (error.code) {
    case 'DUPLICATE_KEY': {
      const key = keyAt(source, error.pos[0]);
      return `duplicate key${key === undefined ? '' : ` "${key}"`}: a key may appear only once in a map`;
    }
    case 'MULTIPLE_DOCS':
      return `the file holds more than one YAML document ("---"): ${kind.document} is one document`;
    case 'TAB_AS_INDENT':
      return 'YAML syntax error: tabs are not allowed as indentation, use spaces';
    default:
      return syntaxMessage(error);
  }
}

/** "YAML syntax error: " and the library's first sentence. */
function syntaxMessage(error: YAMLError): string {
  const sentence = firstLine(error.message);
  return `YAML syntax error: ${sentence.charAt(0).toLowerCase()}${sentence.slice(1)}`;
}

/** The map key written at offset, for duplicate-key messages; long keys are left unnamed. */
function keyAt(source: string, offset: number): string | undefined {
  const match = /^(?:"((?:[^"\\\r\n]|\\.)*)"|'((?:[^'\r\n]|'')*)'|([^\r\n:#,{}[\]]*?))[ \t]*:/.exec(source.slice(offset, offset + 200));
  if (!match) return undefined;
  return match[1] ?? match[2]?.replace(/''/g, "'") ?? match[3];
}

/**
 * Sorted by position, without repeats, each message one line of printable text: a message may
 * quote what the file says, and every problem is printed as one `file:line:col: message` line.
 */
export function cleanIssues(issues: SourceIssue[], mainFile?: string): SourceIssue[] {
  const seen = new Set<string>();
  // Problems in included files follow those of the scenario, each file in the order first met.
  const fileOrder = new Map<string, number>(mainFile === undefined ? [] : [[mainFile, 0]]);
  for (const { pos } of issues) if (!fileOrder.has(pos.file)) fileOrder.set(pos.file, fileOrder.size);
  return issues
    .map((issue) => ({ ...issue, message: printable(issue.message) }))
    .filter((issue) => {
      const id = `${issue.pos.file}:${issue.pos.line}:${issue.pos.col}:${issue.message}`;
      return !seen.has(id) && Boolean(seen.add(id));
    })
    .sort((a, b) => fileOrder.get(a.pos.file)! - fileOrder.get(b.pos.file)! || comparePos(a.pos, b.pos));
}

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Longer messages (they quote a very long key, say) keep their start and end. */
const MAX_MESSAGE_LENGTH = 500;

function printable(message: string): string {
  const short =
    message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH - 100)}…${message.slice(-99)}`;
  return short.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (char) => ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
