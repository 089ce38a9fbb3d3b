import { shownPath } from '../scenario/files.js';
import type { CliIO } from './io.js';

/**
 * What a check without the secrets (lenientEnv) and the certificates or messages that live only
 * where the run happens could not find, as notes on stderr: `run` refuses to start without them.
 */
export function printMissing(io: CliIO, env: ReadonlySet<string>, files: ReadonlySet<string>): void {
  if (env.size > 0) io.stderr.write(`note: not set in this environment, needed to run: ${[...env].sort().join(', ')}\n`);
  if (files.size > 0) io.stderr.write(`note: not found here, needed to run: ${[...files].map((file) => shownPath(file)).sort().join(', ')}\n`);
}
