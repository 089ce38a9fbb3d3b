import { createHash } from 'node:crypto';
import type { Target } from '../scenario/types.js';
import type { Shard } from './shard-spec.js';
import type { WorkItem } from './work-item.js';

function targetKey(target: Target): string {
  if (target.kind === 'unix') return `unix:${target.path}`;
  if (target.kind === 'exec') return `exec:${JSON.stringify(target.argv)}`;
  // A placeholder keys by what is known of its address: an MX target's domain, the embedded server's loopback address.
  const { host, port } = target.kind === 'placeholder' ? (target.address ?? { host: '', port: 0 }) : target;
  return `${host.toLowerCase()}:${port}`;
}

/**
 * `file#case@target`. The case is named rather than numbered (names are unique within a
 * file), so adding a case to a file moves no other case to another shard.
 */
export function shardKey(item: WorkItem): string {
  return `${item.scenario.file}#${item.kase.name}@${targetKey(item.target)}`;
}

/** 0-based bucket; SHA-256 gives the same answer on every machine and Node version. */
function bucketOf(key: string, total: number): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % total;
}

/** The items of one shard, in their order. An item's shard depends only on its key. */
export function selectShard<T>(items: T[], shard: Shard, key: (item: T) => string): T[] {
  return items.filter((item) => bucketOf(key(item), shard.total) === shard.index - 1);
}
