/**
 * What a terminal shows of the line being typed. readline echoes every key; the credential in a line
 * (the whole line after a 334, or the initial response of AUTH) is echoed as `*`, one for each character,
 * so readline's cursor arithmetic still holds and no secret reaches the screen or its scrollback.
 */

/** The line readline is editing. */
export interface EditedLine {
  readonly line: string;
  readonly cursor: number;
}

/** Where the credential in a line being typed starts, or undefined when it has none. */
export function secretStart(line: string, secretNext: boolean): number | undefined {
  if (secretNext) return 0;
  const auth = /^\s*AUTH\s+\S+\s+/i.exec(line);
  return auth ? auth[0].length : undefined;
}

/**
 * `chunk` as it may be shown. readline writes the line whole (the prompt, then the line) when it
 * redraws it, and a key typed at the end of the line alone; each is masked from `from` on.
 * Everything else (cursor movement, line ends) is written as it is.
 */
export function maskEcho(chunk: string, prompt: string, edited: EditedLine, from: number | undefined): string {
  const { line, cursor } = edited;
  if (from === undefined || from >= line.length) return chunk;
  if (chunk === prompt + line) return prompt + masked(line, 0, from);
  const start = cursor - chunk.length;
  if (chunk.length > 0 && start >= 0 && line.slice(start, cursor) === chunk) return masked(chunk, start, from);
  return chunk;
}

/** `text`, which starts at `offset` in the line, with every character from `from` on replaced by `*`. */
function masked(text: string, offset: number, from: number): string {
  const kept = Math.max(0, Math.min(text.length, from - offset));
  return text.slice(0, kept) + '*'.repeat(text.length - kept);
}

/** The terminal output with its writes masked: readline writes the prompt and the line through it. */
export function maskedOutput<T extends NodeJS.WritableStream>(output: T, mask: (chunk: string) => string): T {
  const write = (chunk: unknown, ...rest: unknown[]): boolean =>
    (output.write as (...args: unknown[]) => boolean)(typeof chunk === 'string' ? mask(chunk) : chunk, ...rest);
  return new Proxy(output, {
    get(target, property) {
      if (property === 'write') return write;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
