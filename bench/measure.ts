/** Small helpers for figures and the result table. */

export interface Row {
  name: string;
  measured: string;
  target: string;
  pass: boolean;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const ms = (value: number): string => `${Math.round(value)} ms`;
export const mb = (value: number): string => `${Math.round(value)} MB`;
export const ratio = (value: number): string => `${value.toFixed(2)}×`;

export function table(rows: Row[]): string {
  const header: [string, string, string, string] = ['benchmark', 'measured', 'target', 'result'];
  const cells = rows.map((row): [string, string, string, string] => [row.name, row.measured, row.target, row.pass ? 'PASS' : 'FAIL']);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => cell[column]!.length)));
  const line = (cell: string[]): string => cell.map((text, column) => text.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join('\n');
}
