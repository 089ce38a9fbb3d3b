/** Deterministic random edits of a file's bytes, for fuzzing the loaders. */

/** A seeded PRNG (mulberry32): the same seed gives the same mutations on every run. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, max). */
  below(max: number): number {
    return Math.floor(this.next() * max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

/** A seed from a name (FNV-1a), so each file gets its own sequence. */
function seedOf(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * How many mutations a fuzz test makes of each file: `suiteDefault`, a few that keep the suite
 * quick, unless FUZZ_MUTATIONS asks for more (`npm run fuzz` runs the fuzz tests long).
 */
export function fuzzMutations(suiteDefault: number): number {
  const asked = process.env['FUZZ_MUTATIONS'];
  if (asked === undefined || asked === '') return suiteDefault;
  const count = Number(asked);
  if (!Number.isInteger(count) || count < 1) throw new Error(`FUZZ_MUTATIONS must be a whole number of at least 1, not "${asked}"`);
  return count;
}

/**
 * The seed of a file's sequence of mutations: from its name, so every run makes the same ones;
 * with FUZZ_SEED, from that and its name, for a sequence no run has made before.
 */
export function fuzzSeed(name: string): number {
  const seed = process.env['FUZZ_SEED'];
  return seedOf(seed ? `${seed}/${name}` : name);
}

/** Names the sequence in a failure's message, so that it can be made again. */
export function fuzzContext(): string {
  const seed = process.env['FUZZ_SEED'];
  return seed ? ` (FUZZ_SEED=${seed})` : '';
}

const SYMBOLS = [':', '[', '{', '*', '&', '!', '%', '@', '\t', '\r', ']', '}', ',', '- ', '? ', '#', '|', '>', '"', "'", '${', '$${', '\\', '\n'];
const NOT_UTF8 = [[0xff], [0xfe, 0xff], [0xc0, 0x80], [0x80], [0xed, 0xa0, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xe2, 0x82]];

type Mutation = (bytes: Buffer, random: Random) => Buffer;

function lines(bytes: Buffer): Buffer[] {
  const found: Buffer[] = [];
  let start = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, start)) {
    found.push(bytes.subarray(start, at + 1));
    start = at + 1;
  }
  if (start < bytes.length) found.push(bytes.subarray(start));
  return found;
}

function onLines(edit: (all: Buffer[], random: Random) => void): Mutation {
  return (bytes, random) => {
    const all = lines(bytes);
    if (all.length > 0) edit(all, random);
    return Buffer.concat(all);
  };
}

function insertAt(bytes: Buffer, offset: number, inserted: Buffer): Buffer {
  return Buffer.concat([bytes.subarray(0, offset), inserted, bytes.subarray(offset)]);
}

const MUTATIONS: Mutation[] = [
  onLines((all, random) => void all.splice(random.below(all.length), 1)),
  onLines((all, random) => {
    const index = random.below(all.length);
    all.splice(index, 0, all[index]!);
  }),
  onLines((all, random) => {
    const [a, b] = [random.below(all.length), random.below(all.length)];
    [all[a], all[b]] = [all[b]!, all[a]!];
  }),
  onLines((all, random) => {
    const index = random.below(all.length);
    const line = all[index]!;
    const shift = random.below(7) - 3;
    all[index] = shift > 0 ? Buffer.concat([Buffer.alloc(shift, 0x20), line]) : line.subarray(Math.min(-shift, leadingSpaces(line)));
  }),
  (bytes, random) => {
    if (bytes.length === 0) return bytes;
    const copy = Buffer.from(bytes);
    copy[random.below(copy.length)] = 0x20 + random.below(0x5f);
    return copy;
  },
  (bytes, random) => insertAt(bytes, random.below(bytes.length + 1), Buffer.from(random.pick(SYMBOLS))),
  (bytes, random) => bytes.subarray(0, random.below(bytes.length + 1)),
  (bytes, random) => insertAt(bytes, random.below(bytes.length + 1), Buffer.from(random.pick(NOT_UTF8))),
  // An anchor and an alias to it, anywhere: sometimes inside the value it names.
  (bytes, random) => {
    const anchored = insertAt(bytes, random.below(bytes.length + 1), Buffer.from('&f '));
    return insertAt(anchored, random.below(anchored.length + 1), Buffer.from(random.pick(['*f', ' *f', '\n*f'])));
  },
];

function leadingSpaces(line: Buffer): number {
  let count = 0;
  while (line[count] === 0x20) count++;
  return count;
}

/** One to three random edits of bytes. */
export function mutate(bytes: Buffer, random: Random): Buffer {
  let result = bytes;
  const edits = 1 + random.below(3);
  for (let i = 0; i < edits; i++) result = random.pick(MUTATIONS)(result, random);
  return result;
}
