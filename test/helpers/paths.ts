import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The project root: tests run from `dist/test/…`, fixtures stay in the source tree under `test/`. */
export const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Absolute path of a file in the source tree, e.g. `sourcePath('test/scenario/fixtures/x.yaml')`. */
export function sourcePath(...parts: string[]): string {
  return join(projectRoot, ...parts);
}
