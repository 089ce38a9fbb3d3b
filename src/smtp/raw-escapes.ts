/**
 * The escapes of `raw:` text, so that exact bytes (bare CR, bare LF, NUL, any octet) can be
 * written in YAML: `\r` `\n` `\t` `\0` `\\` and `\xHH`. Every other character is sent as UTF-8.
 */

const SIMPLE: Record<string, number> = { r: 0x0d, n: 0x0a, t: 0x09, '0': 0x00, '\\': 0x5c };
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;
const KNOWN = 'use \\r, \\n, \\t, \\0, \\\\ or \\xHH';

/** The bytes, or why the text cannot be decoded and the index (in UTF-16 code units) of the offending backslash. */
export function decodeRawEscapes(text: string): { bytes: Uint8Array } | { error: string; index: number } {
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  let literalStart = 0;
  let index = text.indexOf('\\');
  while (index >= 0) {
    chunks.push(encoder.encode(text.slice(literalStart, index)));
    const decoded = escapeAt(text, index);
    if ('error' in decoded) return { error: decoded.error, index };
    chunks.push(Uint8Array.of(decoded.byte));
    literalStart = index + decoded.length;
    index = text.indexOf('\\', literalStart);
  }
  chunks.push(encoder.encode(text.slice(literalStart)));
  return { bytes: concat(chunks) };
}

function escapeAt(text: string, index: number): { byte: number; length: number } | { error: string } {
  const letter = text[index + 1];
  if (letter === undefined) return { error: `a lone "\\" ends the text: write "\\\\" for a backslash` };
  const simple = SIMPLE[letter];
  if (simple !== undefined) return { byte: simple, length: 2 };
  if (letter === 'x') {
    const hex = text.slice(index + 2, index + 4);
    if (!HEX_PAIR.test(hex)) return { error: `"\\x" must be followed by two hex digits, as in \\x00 or \\x7F` };
    return { byte: Number.parseInt(hex, 16), length: 4 };
  }
  const shown = String.fromCodePoint(text.codePointAt(index + 1) ?? 0);
  return { error: `"\\${shown}" is not an escape: ${KNOWN}` };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
