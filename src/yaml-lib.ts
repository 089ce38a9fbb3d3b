import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

/**
 * The yaml package, loaded with require: its Node entry is CommonJS, and importing it as an
 * ES module first has Node scan the whole file for export names, a cost every `validate`
 * would pay at start-up.
 */
export const yaml: typeof Yaml = createRequire(import.meta.url)('yaml');
