import { isAbsolute, relative } from 'node:path';
import type { CliIO } from './io.js';

/**
 * The environment for checking or showing files where the secrets are not (a lint job in CI):
 * an unset variable reads as a placeholder (masked like every environment value) and is noted
 * in `missing` instead of failing. `run` still refuses to start without it.
 */
export function lenientEnv(env: CliIO['env'], missing: Set<string>): CliIO['env'] {
  return new Proxy(env, {
    get(target, name) {
      if (typeof name !== 'string' || target[name] !== undefined) return target[name as string];
      missing.add(name);
      return `<${name}>`;
    },
  });
}

/**
 * What a check without the secrets (lenientEnv) and the certificates or messages that live only
 * where the run happens could not find, as notes on stderr: `run` refuses to start without them.
 */
export function printMissing(io: CliIO, env: ReadonlySet<string>, files: ReadonlySet<string>): void {
  if (env.size > 0) io.stderr.write(`note: not set in this environment, needed to run: ${[...env].sort().join(', ')}\n`);
  if (files.size > 0) io.stderr.write(`note: not found here, needed to run: ${[...files].map(shownPath).sort().join(', ')}\n`);
}

/** Relative to the current folder when inside it. */
function shownPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside.startsWith('..') || isAbsolute(inside) ? path : inside;
}
