import { isAlias, isMap, isNode, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { SourcePos } from '../errors.js';

/** A path into the parsed data: map keys and list indexes, as in a JSON pointer. */
export type DataPath = readonly (string | number)[];

/** Finds where a value (or a map key) was written, for messages of the form `file:line:col`. */
export class PositionFinder {
  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
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
      const pair = map.items.find((item) => keyText(item.key) === key);
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
    if (isMap(node)) return node.items.find((item) => keyText(item.key) === String(segment))?.value;
    return undefined;
  }

  private resolve(value: unknown): Node | undefined {
    if (isAlias(value)) return value.resolve(this.doc);
    return isNode(value) ? value : undefined;
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
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
