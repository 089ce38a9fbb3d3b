import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { planWork, type PlanInput } from '../../src/commands/plan.js';
import { embeddedCaFile } from '../../src/server/embedded.js';
import { capture } from '../helpers/capture.js';
import { sourcePath } from '../helpers/paths.js';

/** The CA files the planned scenario trusts, for a run of scenarios/starttls.yaml with these options. */
async function trustedCas(input: Partial<PlanInput>): Promise<string[]> {
  const planned = await planWork(
    { paths: [sourcePath('scenarios/starttls.yaml')], targets: [], vars: {}, ca: [], ...input },
    capture().io,
    { preview: true, requireTarget: false },
  );
  return planned.scenarios[0]!.tls.ca;
}

describe('planning a run of scenario files', () => {
  test("trusts the embedded server's certificate with --embedded and for a --target on this machine, and for no other", async () => {
    assert.deepEqual(await trustedCas({ embedded: true }), [embeddedCaFile()]);
    for (const target of ['127.0.0.1:2525', '127.1.2.3', 'localhost:25', '[::1]:2525']) {
      assert.deepEqual(await trustedCas({ targets: [target] }), [embeddedCaFile()], target);
    }
    for (const target of ['mx.example.com', '192.0.2.1:25', '[2001:db8::1]:25', 'localhost.example.com']) {
      assert.deepEqual(await trustedCas({ targets: [target] }), [], target);
    }
    assert.deepEqual(await trustedCas({}), [], 'without --target each file names its own server');
    const mine = sourcePath('test/manifest/fixtures/certs/ca.pem');
    assert.deepEqual(await trustedCas({ targets: ['127.0.0.1'], ca: [mine] }), [mine, embeddedCaFile()], '--ca files come first');
  });
});
