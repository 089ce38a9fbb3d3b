import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Interpolator, parseTemplate, type VarDefinition } from '../../src/scenario/interpolate.js';

const pos = { file: 'f.yaml', line: 3, col: 9 };
const at = (line: number) => ({ file: 'f.yaml', line, col: 5 });

function layer(entries: Record<string, VarDefinition>): Map<string, VarDefinition> {
  return new Map(Object.entries(entries));
}

describe('parseTemplate', () => {
  test('splits text, variables and environment references', () => {
    assert.deepEqual(parseTemplate('a ${x} b ${env:HOME}'), [
      { kind: 'text', text: 'a ' },
      { kind: 'var', name: 'x' },
      { kind: 'text', text: ' b ' },
      { kind: 'env', name: 'HOME' },
    ]);
  });

  test('$${ is a literal ${ and a lone $ stays', () => {
    assert.deepEqual(parseTemplate('$${x} $ $$'), [{ kind: 'text', text: '${x} $ $$' }]);
  });

  test('unclosed and malformed references are errors', () => {
    assert.deepEqual(parseTemplate('a ${x'), { error: 'unclosed "${": write "$${" for a literal "${"' });
    assert.deepEqual(parseTemplate('${1x}'), {
      error: '"${1x}" is not a variable reference: use ${name} or ${env:NAME}, or "$${" for a literal "${"',
    });
  });
});

describe('Interpolator', () => {
  test('the first layer that defines a name wins', () => {
    const interpolator = new Interpolator(
      [layer({ who: { value: 'cli' } }), layer({ who: { value: 'case', pos: at(2) }, x: { value: 'case x', pos: at(3) } })],
      {},
    );
    assert.equal(interpolator.expand('${who} ${x}', pos).text, 'cli case x');
  });

  test('values given without a position (command line) are used as is', () => {
    const interpolator = new Interpolator([layer({ raw: { value: '${nope}' } })], {});
    const expansion = interpolator.expand('${raw}', pos);
    assert.equal(expansion.text, '${nope}');
    assert.deepEqual(expansion.issues, []);
  });

  test('variables may use other variables and the environment; env values become secrets', () => {
    const interpolator = new Interpolator(
      [layer({ auth: { value: 'AUTH PLAIN ${token}', pos: at(2) }, token: { value: '${env:TOKEN}', pos: at(3) } })],
      { TOKEN: 's3cret' },
    );
    const expansion = interpolator.expand('${auth}', pos);
    assert.equal(expansion.text, 'AUTH PLAIN s3cret');
    assert.deepEqual(expansion.secrets, ['s3cret']);
  });

  test('an undefined variable is reported where it is used; an unset env variable where it is written', () => {
    const interpolator = new Interpolator([layer({ pw: { value: '${env:PW}', pos: at(2) } })], {});
    assert.deepEqual(interpolator.expand('${pw} ${other}', pos).issues, [
      { pos: at(2), message: 'environment variable PW is not set' },
      { pos, message: 'undefined variable "other"' },
    ]);
  });

  test('a loop between variables is an error, not a hang', () => {
    const interpolator = new Interpolator(
      [layer({ a: { value: '${b}', pos: at(2) }, b: { value: 'x${a}', pos: at(3) } })],
      {},
    );
    assert.deepEqual(interpolator.expand('${a}', pos).issues, [
      { pos: at(2), message: 'variables refer to each other in a loop: a → b → a' },
    ]);
  });

  test('names the reference that brought in a line break', () => {
    const interpolator = new Interpolator(
      [layer({ two: { value: 'a\nb', pos: at(2) }, via: { value: '${two}', pos: at(3) } })],
      { CRLF: 'x\r\ny' },
    );
    assert.equal(interpolator.expand('EHLO ${via}', pos).lineBreakFrom, 'variable "via"');
    assert.equal(interpolator.expand('EHLO ${env:CRLF}', pos).lineBreakFrom, 'environment variable CRLF');
    assert.equal(interpolator.expand('EHLO plain', pos).lineBreakFrom, undefined);
  });

  test('a rule for unknown names keeps run-time placeholders or reports its own sentence', () => {
    const interpolator = new Interpolator([layer({ who: { value: 'me', pos: at(2) } })], {});
    const rule = (name: string) => (name === 'id' ? 'capture' : name === 'later' ? { error: 'not yet' } : undefined);
    const kept = interpolator.expand('X ${id} by ${who}${id}', pos, rule);
    assert.deepEqual(kept.parts, ['X ', { capture: 'id' }, ' by me', { capture: 'id' }]);
    assert.equal(kept.text, 'X  by me');
    assert.deepEqual(kept.issues, []);
    assert.deepEqual(interpolator.expand('${later} ${other}', pos, rule).issues, [
      { pos, message: 'not yet' },
      { pos, message: 'undefined variable "other"' },
    ]);
  });

  test('a defined variable wins over the rule, and the rule does not reach into variable values', () => {
    const interpolator = new Interpolator([layer({ id: { value: 'v', pos: at(2) }, via: { value: '${cap}', pos: at(3) } })], {});
    const rule = () => 'capture' as const;
    assert.deepEqual(interpolator.expand('${id}', pos, rule).parts, ['v']);
    assert.deepEqual(interpolator.expand('${via}', pos, rule).issues, [{ pos: at(3), message: 'undefined variable "cap"' }]);
    assert.equal(interpolator.defines('id'), true);
    assert.equal(interpolator.defines('cap'), false);
  });
});
