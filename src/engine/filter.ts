import type { WorkItem } from './work-item.js';

export interface ItemFilter {
  /** Matched against `<scenario name> › <case name>`. */
  grep?: RegExp;
  /** A case matches when any of its own or its file's tags is one of these; empty means no tag filter. */
  tags?: string[];
}

/** The name `grep` is matched against. */
export function itemTitle(item: WorkItem): string {
  return `${item.scenario.name} › ${item.kase.name}`;
}

/** A case's tags: its file's and its own (the loader has merged them). */
export function itemTags(item: WorkItem): string[] {
  return item.kase.tags;
}

/** Keeps the items that match every given criterion, in their order. */
export function filterItems(items: WorkItem[], filter: ItemFilter): WorkItem[] {
  // A global or sticky RegExp keeps state between test() calls; a copy without those flags does not.
  const grep = filter.grep ? new RegExp(filter.grep.source, filter.grep.flags.replace(/[gy]/g, '')) : undefined;
  const wanted = new Set(filter.tags ?? []);
  return items.filter(
    (item) =>
      (grep === undefined || grep.test(itemTitle(item))) &&
      (wanted.size === 0 || itemTags(item).some((tag) => wanted.has(tag))),
  );
}
