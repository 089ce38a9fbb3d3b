import type { SendCommand } from '../commands/types.js';
import { swaksFlag } from './swaks-flags.js';

/**
 * `send --print-swaks`: the swaks command line of the same transaction, flag by flag through the
 * table of swaks-flags.ts. What swaks has no flag for is listed after it, in a comment line; a
 * password is never printed (swaks asks for it).
 */

/** A word as a POSIX shell reads it back: quoted unless it is plainly safe. */
export function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function swaksCommandLine(command: SendCommand): string {
  const words: string[] = ['swaks'];
  const only: string[] = [];
  const flag = (smtpspec: string, ...value: string[]) => {
    const swaks = swaksFlag(smtpspec);
    if (swaks) words.push(swaks, ...value.map(shellWord));
    else only.push([smtpspec, ...value.map(shellWord)].join(' '));
  };
  if (command.server) flag('--server', command.server.host);
  if (command.port !== undefined) flag('--port', String(command.port));
  if (command.socket !== undefined) flag('--socket', command.socket);
  if (command.pipe) flag('--pipe', command.pipe.map(shellWord).join(' '));
  if (command.embedded) flag('--embedded');
  if (command.dnsServer) flag('--dns-server', `${command.dnsServer.host}:${command.dnsServer.port}`);
  flag('--to', command.to.join(','));
  if (command.from !== undefined) flag('--from', command.from);
  if (command.helo !== undefined) flag('--helo', command.helo);
  if (command.protocol === 'lmtp') flag('--protocol', 'LMTP');
  if (command.tls === 'starttls') flag('--tls');
  if (command.tls === 'optional') flag('--tls-optional');
  if (command.tls === 'implicit') flag('--tls-on-connect');
  // smtpspec verifies unless told not to; swaks only when told to.
  if (command.tls !== 'none' && command.verify) flag('--tls-verify');
  for (const ca of command.ca) flag('--ca', ca);
  if (command.auth) {
    flag('--auth', command.auth.mechanism);
    flag('--auth-user', command.auth.user);
  }
  for (const header of command.headers) flag('--header', `${header.name}: ${header.value}`);
  if (command.body !== undefined) flag('--body', command.body);
  if (command.data !== undefined) flag('--data', `@${command.data}`);
  for (const file of command.attach) flag('--attach', `@${file}`);
  if (command.pipeline) flag('--pipeline');
  if (command.quitAfter) flag('--quit-after', command.quitAfter.toUpperCase());
  if (command.family === 4) flag('--ipv4');
  if (command.family === 6) flag('--ipv6');
  if (command.localAddress !== undefined) flag('--local-address', command.localAddress);
  if (command.timeout !== undefined) flag('--timeout', command.timeout);
  if (command.dsn.notify) flag('--dsn-rcpt-notify', command.dsn.notify.join(','));
  if (command.dsn.ret) flag('--dsn-ret', command.dsn.ret);
  if (command.dsn.envid !== undefined) flag('--dsn-envid', command.dsn.envid);
  if (command.dsn.orcpt !== undefined) flag('--dsn-rcpt-orcpt', command.dsn.orcpt);
  for (const [step, asked] of Object.entries(command.expect)) for (const value of [...asked.codes, ...asked.texts]) flag('--expect', `${step}=${value}`);
  if (command.save !== undefined) flag('--save', command.save);
  const lines = [words.join(' ')];
  if (only.length > 0) lines.push(`# swaks has no flag for: ${only.join(' ')}`);
  return lines.join('\n');
}
