/** Items as one phrase: `a`, `a or b`, `a, b or c`; '' for none. */
export function orList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1)!}`;
}
