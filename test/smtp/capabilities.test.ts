import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkCapability,
  describeSpec,
  parseCapabilitySpec,
  parseEhloReply,
  type Capabilities,
  type CapabilitySpec,
} from '../../src/smtp/capabilities.js';
import { connect } from '../../src/smtp/client.js';
import { startTestServer } from '../helpers/test-server.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';

/** The deadline of every wait the test does not mean to reach. */
const TIMEOUT_MS = GENEROUS_MS;

/** The EHLO reply of smtp-server 3.21.6 with enhanced status codes on (its lines, without codes). */
const SMTP_SERVER_EHLO = [
  'mx.test Nice to meet you, [127.0.0.1]',
  'PIPELINING',
  '8BITMIME',
  'SMTPUTF8',
  'ENHANCEDSTATUSCODES',
  'AUTH PLAIN LOGIN XOAUTH2 CRAM-MD5',
  'STARTTLS',
  'SIZE 1000',
];

function spec(text: string): CapabilitySpec {
  const parsed = parseCapabilitySpec(text);
  assert.ok(!('error' in parsed), `${text}: ${'error' in parsed ? parsed.error : ''}`);
  return parsed;
}

function holds(caps: Capabilities, text: string): boolean {
  return checkCapability(caps, spec(text));
}

describe('parseCapabilitySpec', () => {
  test('a keyword alone means advertised; keywords become upper case', () => {
    assert.deepEqual(parseCapabilitySpec('STARTTLS'), { keyword: 'STARTTLS', kind: 'present' });
    assert.deepEqual(parseCapabilitySpec('  8bitmime '), { keyword: '8BITMIME', kind: 'present' });
  });

  test('comparisons, with or without spaces around the operator', () => {
    assert.deepEqual(parseCapabilitySpec('SIZE >= 10485760'), { keyword: 'SIZE', kind: 'compare', op: '>=', value: 10485760 });
    assert.deepEqual(parseCapabilitySpec('size<1000'), { keyword: 'SIZE', kind: 'compare', op: '<', value: 1000 });
    for (const op of ['<=', '=', '>'] as const) {
      assert.deepEqual(parseCapabilitySpec(`SIZE ${op} 5`), { keyword: 'SIZE', kind: 'compare', op, value: 5 });
    }
  });

  test('a keyword with parameters means every parameter is advertised', () => {
    assert.deepEqual(parseCapabilitySpec('auth PLAIN  login'), { keyword: 'AUTH', kind: 'includes', params: ['PLAIN', 'login'] });
  });

  test('what is not a spec says why', () => {
    assert.deepEqual(parseCapabilitySpec('SIZE >='), { error: 'a whole number must follow ">="' });
    assert.deepEqual(parseCapabilitySpec('SIZE > 10MB'), { error: 'a whole number must follow ">"' });
    assert.deepEqual(parseCapabilitySpec('SIZE >= -1'), { error: 'a whole number must follow ">="' });
    assert.deepEqual(parseCapabilitySpec(''), { error: 'it is empty: write an EHLO keyword such as STARTTLS' });
    assert.deepEqual(parseCapabilitySpec('AUTH:PLAIN'), { error: '"AUTH:PLAIN" is not an EHLO keyword: use letters, digits and -' });
    assert.deepEqual(parseCapabilitySpec('X_Y = 1'), { error: '"X_Y" is not an EHLO keyword: use letters, digits and -' });
  });
});

describe('parseEhloReply', () => {
  test('reads the reply of smtp-server; the first line is the greeting, not a keyword', () => {
    const caps = parseEhloReply(SMTP_SERVER_EHLO);
    assert.deepEqual(
      [...caps.keywords],
      [
        ['PIPELINING', []],
        ['8BITMIME', []],
        ['SMTPUTF8', []],
        ['ENHANCEDSTATUSCODES', []],
        ['AUTH', ['PLAIN', 'LOGIN', 'XOAUTH2', 'CRAM-MD5']],
        ['STARTTLS', []],
        ['SIZE', ['1000']],
      ],
    );
    assert.equal(caps.keywords.has('MX.TEST'), false);
  });

  test('the old AUTH=… form counts as AUTH, parameters are merged, keywords upper-cased', () => {
    const caps = parseEhloReply(['mx', 'auth LOGIN PLAIN', 'AUTH=PLAIN CRAM-MD5', 'dsn']);
    assert.deepEqual(caps.keywords.get('AUTH'), ['LOGIN', 'PLAIN', 'CRAM-MD5']);
    assert.deepEqual(caps.keywords.get('DSN'), []);
  });

  test('a one-line reply advertises nothing', () => {
    assert.equal(parseEhloReply(['mx.example.test']).keywords.size, 0);
  });

  test('reads a live EHLO reply from smtp-server over a socket', async () => {
    const server = await startTestServer({ name: 'mx.test', size: 10485760, authMethods: ['PLAIN', 'LOGIN'] });
    after(() => server.close());
    const connection = await connect({ host: server.host, port: server.port, timeoutMs: TIMEOUT_MS });
    after(() => connection.close());
    await connection.readReply(TIMEOUT_MS);
    await connection.sendLine('EHLO client.test');
    const reply = await connection.readReply(TIMEOUT_MS);
    const caps = parseEhloReply(reply.lines);
    assert.ok(holds(caps, 'PIPELINING'));
    assert.ok(holds(caps, 'STARTTLS'));
    assert.ok(holds(caps, 'AUTH plain login'));
    assert.ok(holds(caps, 'SIZE >= 10485760'));
    assert.ok(!holds(caps, 'SIZE > 10485760'));
    assert.ok(!holds(caps, 'DSN'), 'smtp-server hides DSN by default');
  });
});

describe('checkCapability', () => {
  const caps = parseEhloReply(SMTP_SERVER_EHLO);

  test('present, case-insensitive', () => {
    assert.ok(holds(caps, 'starttls'));
    assert.ok(!holds(caps, 'CHUNKING'));
  });

  test('includes: every parameter, case-insensitive', () => {
    assert.ok(holds(caps, 'AUTH PLAIN LOGIN'));
    assert.ok(holds(caps, 'AUTH cram-md5'));
    assert.ok(!holds(caps, 'AUTH PLAIN GSSAPI'));
    assert.ok(!holds(caps, 'DSN NEVER'));
  });

  test('comparisons use the first parameter as a number', () => {
    assert.ok(holds(caps, 'SIZE >= 1000'));
    assert.ok(holds(caps, 'SIZE <= 1000'));
    assert.ok(holds(caps, 'SIZE = 1000'));
    assert.ok(!holds(caps, 'SIZE > 1000'));
    assert.ok(!holds(caps, 'SIZE < 1000'));
    assert.ok(!holds(caps, 'SIZE >= 10485760'));
  });

  test('a keyword without a number, or missing, fails every comparison', () => {
    const bare = parseEhloReply(['mx', 'SIZE', 'X-LIMIT abc']);
    assert.ok(!holds(bare, 'SIZE >= 0'));
    assert.ok(!holds(bare, 'X-LIMIT >= 0'));
    assert.ok(!holds(bare, 'NOPE = 0'));
  });
});

describe('describeSpec', () => {
  test('gives the normalised written form', () => {
    assert.equal(describeSpec(spec('starttls')), 'STARTTLS');
    assert.equal(describeSpec(spec('size>=10485760')), 'SIZE >= 10485760');
    assert.equal(describeSpec(spec('auth PLAIN  LOGIN')), 'AUTH PLAIN LOGIN');
  });
});
