/** Reading `--shard i/n`, apart from the hashing, so the CLI parses it without loading node:crypto. */

/** One of `total` shards, 1-based. */
export interface Shard {
  index: number;
  total: number;
}

/** `2/5` → { index: 2, total: 5 }; undefined unless 1 ≤ index ≤ total. */
export function parseShard(text: string): Shard | undefined {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) return undefined;
  const index = Number(match[1]);
  const total = Number(match[2]);
  if (!Number.isSafeInteger(total) || index < 1 || index > total) return undefined;
  return { index, total };
}
