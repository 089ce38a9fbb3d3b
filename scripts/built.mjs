// Exits 0 when the program has been built (dist/bin holds the code cache, the last file the
// build writes), 1 otherwise. The `prepare` script builds only in the second case:
// - installing from a git URL, npm runs `prepare` twice in a fresh clone (once for the clone's
//   own `npm install`, once before packing it): the first builds, the second has nothing to do;
// - `npm install` / `npm ci` here build once, and stay fast afterwards: `npm start`, `npm test`
//   and `npm run bench` build anyway, and `npm pack` builds in `prepack`.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
process.exitCode = existsSync(join(root, 'dist', 'bin', 'smtpspec-main.cjs.cache')) ? 0 : 1;
