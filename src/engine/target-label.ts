import { formatAddress } from '../smtp/address.js';
import { isTcpTarget, type Target } from '../scenario/types.js';

export { isTcpTarget };

/** A target in one line, for reports and case ids: `mx.example.com:25`, `unix:/run/lmtp`, `exec: sendmail -bs`. */
export function formatTarget(target: Target): string {
  if (target.kind === 'placeholder') return target.label;
  if (target.kind === 'unix') return `unix:${target.path}`;
  if (target.kind === 'exec') return `exec: ${target.argv.join(' ')}`;
  // A mail domain's own cases (MTA-STS, TLS-RPT) connect to nothing: the domain is all there is to name.
  if (target.mx?.wholeDomain) return target.name && target.name !== target.host ? `${target.name} (mail domain ${target.host})` : `mail domain ${target.host}`;
  const address = formatAddress(target.host, target.port);
  return target.name && target.name !== target.host ? `${target.name} (${address})` : address;
}
