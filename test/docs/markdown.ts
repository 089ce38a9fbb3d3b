import { readdirSync, readFileSync } from 'node:fs';
import { sourcePath } from '../helpers/paths.js';

/** Reading the README and the pages of docs/: fenced blocks, headings, links. */

export interface Page {
  /** Relative to the project root, with forward slashes: `README.md`, `docs/guide.md`. */
  path: string;
  text: string;
}

export interface Block {
  page: string;
  /** The info string after the opening fence: `sh`, `console`, `yaml`… */
  lang: string;
  /** The line of the opening fence, 1-based. */
  line: number;
  /** The lines between the fences. */
  lines: string[];
  /** The line just before the opening fence (a `<!-- … -->` marker, say). */
  before: string;
}

/** README.md and every page of docs/, in a fixed order. */
export function pages(): Page[] {
  const docs = readdirSync(sourcePath('docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs].map((path) => ({ path, text: readFileSync(sourcePath(path), 'utf8') }));
}

export function blocks(page: Page): Block[] {
  const found: Block[] = [];
  const lines = page.text.split('\n');
  let open: Block | undefined;
  let fence = '';
  lines.forEach((line, index) => {
    const marker = /^(\s*)(```+)(.*)$/.exec(line);
    if (!open && marker) {
      fence = marker[2]!;
      open = { page: page.path, lang: marker[3]!.trim(), line: index + 1, lines: [], before: lines[index - 1] ?? '' };
      return;
    }
    if (open && marker && marker[2] === fence && marker[3]!.trim() === '') {
      // A block inside a list item is indented; its lines lose that indentation.
      const indent = /^\s*/.exec(lines[open.line - 1]!)![0].length;
      open.lines = open.lines.map((text) => text.slice(Math.min(indent, /^\s*/.exec(text)![0].length)));
      found.push(open);
      open = undefined;
      return;
    }
    open?.lines.push(line);
  });
  return found;
}

/** The text outside fenced code blocks. */
export function prose(markdown: string): string {
  return markdown
    .split('\n')
    .reduce<{ inside: boolean; kept: string[] }>(
      (state, line) => {
        if (/^\s*```/.test(line)) return { inside: !state.inside, kept: state.kept };
        if (!state.inside) state.kept.push(line);
        return state;
      },
      { inside: false, kept: [] },
    )
    .kept.join('\n');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page: its headings', and those an `<a id="…">` sets. */
export function anchors(markdown: string): Set<string> {
  const text = prose(markdown);
  const headings = [...text.matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchorOf(match[1]!));
  const explicit = [...text.matchAll(/<a id="([^"]+)"><\/a>/g)].map((match) => match[1]!);
  return new Set([...headings, ...explicit]);
}

/** Every link target of a page's prose: `[text](target)`, images included. */
export function links(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
}

/** A block that shows a whole file starts with a comment naming it: `# fleet.yaml`. */
export function shownFile(block: Block): string | undefined {
  if (block.lang !== 'yaml') return undefined;
  return /^# ([\w-]+(?:\/[\w-]+)*\.ya?ml)$/.exec(block.lines[0] ?? '')?.[1];
}
