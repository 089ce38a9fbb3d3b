import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { filterItems, itemTitle } from '../../src/engine/filter.js';
import { withTargets, type WorkItem } from '../../src/engine/plan.js';
import { parseScenario } from '../../src/scenario/load.js';

function itemsOf(file: string, name: string, cases: string[]): WorkItem[] {
  const yaml = `name: ${name}\ncases:\n${cases.map((c) => `  - name: ${c}\n    steps:\n      - expect: 220\n`).join('')}`;
  return withTargets([parseScenario(yaml, file, { env: {} })], { host: '127.0.0.1', port: 25 });
}

/** Items of a file written with tags: `tags: [tls]` on the file, and per case. */
function taggedItems(): WorkItem[] {
  const relayYaml = `name: Relay rules
cases:
  - name: open relay refused
    tags: [slow, relay]
    steps: [{ expect: 220 }]
  - name: local delivery accepted
    tags: [smoke]
    steps: [{ expect: 220 }]
`;
  const tlsYaml = `name: TLS
tags: [tls]
cases:
  - name: STARTTLS offered
    steps: [{ expect: 220 }]
`;
  const untagged = itemsOf('untagged.yaml', 'Plain', ['no tags']);
  const scenarios = [parseScenario(relayYaml, 'relay.yaml', { env: {} }), parseScenario(tlsYaml, 'tls.yaml', { env: {} })];
  return [...withTargets(scenarios, { host: '127.0.0.1', port: 25 }), ...untagged];
}

const relay = itemsOf('relay.yaml', 'Relay rules', ['open relay refused', 'local delivery accepted']);
const tls = itemsOf('tls.yaml', 'TLS', ['STARTTLS offered', 'relay after STARTTLS']);
const all = [...relay, ...tls];
const names = (items: WorkItem[]) => items.map(itemTitle);

describe('filterItems', () => {
  test('the title is "<scenario> › <case>"', () => {
    assert.equal(itemTitle(relay[0]!), 'Relay rules › open relay refused');
  });

  test('grep matches the scenario name or the case name, keeping order', () => {
    assert.deepEqual(names(filterItems(all, { grep: /relay/i })), [
      'Relay rules › open relay refused',
      'Relay rules › local delivery accepted',
      'TLS › relay after STARTTLS',
    ]);
    assert.deepEqual(names(filterItems(all, { grep: /^TLS › / })), ['TLS › STARTTLS offered', 'TLS › relay after STARTTLS']);
    assert.deepEqual(filterItems(all, { grep: /nothing like this/ }), []);
  });

  test('a global RegExp gives the same answer for every item', () => {
    assert.equal(filterItems(all, { grep: /STARTTLS/g }).length, 2);
  });

  test('no criteria keeps everything', () => {
    assert.deepEqual(filterItems(all, {}), all);
    assert.deepEqual(filterItems(all, { tags: [] }), all);
  });

  test('tags: any tag of the case or of its file matches; untagged cases never match', () => {
    const items = taggedItems();
    assert.deepEqual(names(filterItems(items, { tags: ['relay'] })), ['Relay rules › open relay refused']);
    assert.deepEqual(names(filterItems(items, { tags: ['smoke', 'tls'] })), ['Relay rules › local delivery accepted', 'TLS › STARTTLS offered']);
    assert.deepEqual(filterItems(items, { tags: ['missing'] }), []);
  });

  test('grep and tags together must both hold', () => {
    const items = taggedItems();
    assert.deepEqual(names(filterItems(items, { grep: /local/, tags: ['smoke'] })), ['Relay rules › local delivery accepted']);
    assert.deepEqual(names(filterItems(items, { grep: /refused/, tags: ['smoke'] })), []);
  });
});
