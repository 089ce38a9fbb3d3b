import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { startEmbeddedServer, type EmbeddedServer } from '../../src/server/embedded.js';

/** What the tests of a suite share: the embedded server on a free port, its address as a target, and a scratch folder. */
export interface EmbeddedSuite {
  readonly server: EmbeddedServer;
  /** `127.0.0.1:PORT` of the server. */
  readonly target: string;
  readonly dir: string;
}

/**
 * Starts the embedded server and makes a scratch folder (named with `prefix`) before the suite's tests,
 * and stops and removes them after; call it inside `describe`. Read the fields in the tests, once started.
 */
export function embeddedSuite(prefix: string): EmbeddedSuite {
  let server: EmbeddedServer | undefined;
  let dir: string | undefined;
  before(async () => {
    server = await startEmbeddedServer({ port: 0 });
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  after(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the embedded suite is read before its before() hook ran');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get target() {
      return `127.0.0.1:${started(server).port}`;
    },
    get dir() {
      return started(dir);
    },
  };
}
