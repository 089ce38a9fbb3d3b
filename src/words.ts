/** Small helpers for the phrases messages and reports are made of. */

/** Items as one phrase: `a`, `a or b`, `a, b or c`; '' for none. */
export function orList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1)!}`;
}

/** `1 line`, `2 lines`; `plural` for nouns that do not just take an s. */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : pluralNoun}`;
}
