import { EXIT, printWarnings, type CliIO } from './io.js';
import type { RunCommand } from './types.js';
import { planWork, type WorkItem } from '../engine/plan.js';
import { isSessionless } from '../engine/sessionless.js';
import { caseSecrets } from '../engine/run-case.js';
import { formatTarget, printable } from '../report/format.js';
import { isTcpTarget, type Target } from '../scenario/types.js';
import { scratch, stepRows, type PreviewRow } from './preview-steps.js';
import { plural } from '../words.js';

/**
 * `run --dry-run`: for each case, in run order, what would be sent (variables filled in,
 * secrets masked) and what each reply is expected to be. Nothing connects and nothing is
 * looked up: a manifest domain stands as "MX of <domain> (resolved at run time)".
 */

/** Where the checks column starts, at most: longer lines push their check further right. */
const MAX_TEXT_WIDTH = 48;
const INDENT = '  ';

function connectRows(item: WorkItem): PreviewRow[] {
  const { scenario, target } = item;
  // A case that only asks DNS opens no session.
  if (isSessionless(item.kase)) return [{ text: `* no SMTP session: every step asks DNS, for ${formatTarget(target)}` }];
  const verb = target.kind === 'exec' ? 'start' : 'connect to';
  const rows: PreviewRow[] = [{ text: `* ${verb} ${formatTarget(target)}` }];
  if (scenario.proxy) rows.push({ text: `* PROXY protocol v${scenario.proxy.version} header, source ${scenario.proxy.source.host}:${scenario.proxy.source.port}` });
  if (scenario.tls.implicit) rows.push({ text: `* TLS from the first byte, ${scenario.tls.verify ? 'certificate verified' : 'certificate NOT verified'}` });
  const first = item.kase.steps[0];
  if (first && first.action.type !== 'read') rows.push({ text: 'S: (the greeting, read before the first command; any code but 421)' });
  return rows;
}

function layout(rows: PreviewRow[], mask: (text: string) => string): string[] {
  const width = Math.min(MAX_TEXT_WIDTH, Math.max(...rows.map((row) => row.text.length)));
  return rows.map((row) => {
    const text = printable(mask(row.text));
    if (!row.check) return `${INDENT}${text}`.trimEnd();
    // The check is smtpspec's words and the file's expectation as written (secret variables masked where expanded).
    return `${INDENT}${text.padEnd(width)}    ${printable(row.check)}`;
  });
}

/** The host name TLS would check, where it is known before the run (an MX host's name is known only then). */
function knownHost(target: Target): string | undefined {
  if (target.kind === 'placeholder') return target.stands === 'mx' ? undefined : target.address?.host;
  return isTcpTarget(target) ? target.host : undefined;
}

async function previewCase(item: WorkItem): Promise<string[]> {
  const { scenario, kase, target } = item;
  const secrets = caseSecrets(scenario, kase);
  const masker = scratch(secrets);
  const host = knownHost(target);
  const rows = connectRows(item);
  for (const step of kase.steps) rows.push(...(await stepRows(step, scenario, host, secrets)));
  const when = kase.when ? `  (only when ${kase.when.written})` : '';
  // Names as written: a secret variable in a case name was masked where it stands when the file was read.
  const heading = printable(`${scenario.file} › ${kase.name}${when}`);
  return [heading, ...layout(rows, (text) => masker.mask(text)), ''];
}

export async function dryRunCommand(command: RunCommand, io: CliIO): Promise<number> {
  const { items } = await planWork({ ...command, env: io.env, preview: true, onLoaded: (scenarios) => printWarnings(scenarios, io) });
  const lines: string[] = [];
  for (const item of items) lines.push(...(await previewCase(item)));
  lines.push(`${plural(items.length, 'case')}; dry run: nothing was sent`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.passed;
}
