/** Broken files too big to keep in the repository: built by the test, with what the CLI must print. */

const MB = 1024 * 1024;

export interface GeneratedFile {
  name: string;
  bytes(): Buffer;
  /** `line:col: message`, one per problem. */
  expected: string[];
}

/** Text repeated and then cut or padded with a comment to exactly size bytes. */
function sized(head: string, unit: string, size: number): Buffer {
  const body = head + unit.repeat(Math.ceil((size - head.length) / unit.length));
  return Buffer.from(body.slice(0, size - 2) + '#\n');
}

const LONG = 'x'.repeat(MB);
const TOO_MANY = 'too many YAML errors (more than 100): the rest of the file is not checked';

/** Lines first..last, each with the same message. */
function each(first: number, last: number, col: number, message: string): string[] {
  return Array.from({ length: last - first + 1 }, (_, index) => `${first + index}:${col}: ${message}`);
}
const LONG_LINE_COL = `{name: ${LONG}, cases: [{name: a, steps: [{`.length + 1;
const LONG_MANIFEST_COL = `{scenarios: [../scenarios/empty.yaml], targets: [{host: 127.0.0.1, name: ${LONG}, `.length + 1;

export const generatedScenarios: GeneratedFile[] = [
  {
    name: 'huge-cases.yaml',
    bytes: () => sized('cases:\n', '  - name: a case\n    steps:\n      - send: NOOP\n        expect: 250\n', 20 * MB),
    expected: ['1:1: the file is 20 MB; scenario files may be at most 5 MB'],
  },
  {
    name: 'huge-string.yaml',
    bytes: () => Buffer.from(`name: "${'x'.repeat(20 * MB - 21)}"\ncases: []\n`),
    expected: ['1:1: the file is 20 MB; scenario files may be at most 5 MB'],
  },
  {
    name: 'just-over-the-limit.yaml',
    bytes: () => sized('cases:\n', '  - name: a case\n    steps: [{ send: NOOP }]\n', 5 * MB + 1),
    expected: ['1:1: the file is 5.1 MB; scenario files may be at most 5 MB'],
  },
  {
    name: 'deep-flow-lists.yaml',
    bytes: () => Buffer.from(`cases: ${'['.repeat(100_000)}`),
    expected: ['1:71: the YAML is nested more than 64 levels deep'],
  },
  {
    name: 'deep-flow-maps.yaml',
    bytes: () => Buffer.from(`cases: ${'{a: '.repeat(100_000)}`),
    expected: ['1:260: the YAML is nested more than 64 levels deep'],
  },
  {
    name: 'deep-block-maps.yaml',
    bytes: () => Buffer.from(Array.from({ length: 1000 }, (_, depth) => `${' '.repeat(depth)}a:\n`).join('')),
    expected: ['65:65: the YAML is nested more than 64 levels deep'],
  },
  {
    name: 'too-many-errors.yaml',
    bytes: () => Buffer.from(']\n'.repeat(100_000)),
    expected: [...each(1, 100, 1, 'YAML syntax error: unexpected flow-seq-end token in YAML document: "]"'), `101:1: ${TOO_MANY}`],
  },
  {
    name: 'too-many-duplicate-keys.yaml',
    bytes: () => Buffer.from('cases: []\n' + 'cases: []\n'.repeat(1000)),
    expected: [...each(2, 101, 1, 'duplicate key "cases": a key may appear only once in a map'), `102:1: ${TOO_MANY}`],
  },
  {
    name: 'long-line.yaml',
    bytes: () => Buffer.from(`{name: ${LONG}, cases: [{name: a, steps: [{sned: NOOP}]}]}\n`),
    expected: [`1:${LONG_LINE_COL}: unknown key "sned" in a step (did you mean "send"?)`],
  },
];

export const generatedManifests: GeneratedFile[] = [
  {
    name: 'huge.yaml',
    bytes: () => sized('scenarios: [../scenarios/empty.yaml]\ntargets:\n', '  - host: 127.0.0.1\n', 20 * MB),
    expected: ['1:1: the file is 20 MB; manifests may be at most 5 MB'],
  },
  {
    name: 'deep-flow.yaml',
    bytes: () => Buffer.from(`targets: ${'['.repeat(100_000)}`),
    expected: ['1:73: the YAML is nested more than 64 levels deep'],
  },
  {
    name: 'long-line.yaml',
    bytes: () => Buffer.from(`{scenarios: [../scenarios/empty.yaml], targets: [{host: 127.0.0.1, name: ${LONG}, prot: 25}]}\n`),
    expected: [`1:${LONG_MANIFEST_COL}: unknown key "prot" in a target (did you mean "port"?)`],
  },
];
