import type { HeaderCheck, MailboxAction } from '../scenario/types.js';

/** A mailbox step in words: its label and its expectation, for reports and previews. */

export function describeHeaderCheck(check: HeaderCheck): string {
  if (!check.present) return `no ${check.name}`;
  return check.pattern ? `${check.name} ${check.pattern.written}` : check.name;
}

/** Words for the step's label and expectation. */
export function mailboxStepWords(action: MailboxAction): { label: string; expected: string } {
  const what = action.dsn ? 'the DSN of the message sent last' : action.find ? 'a message' : 'the message sent last';
  const checks = [
    ...(action.expect.folder !== undefined ? [`in ${action.expect.folder}`] : []),
    ...action.expect.headers.map(describeHeaderCheck),
    ...(action.expect.body ? [`body ${action.expect.body.written}`] : []),
    ...(action.expect.maxSizeBytes !== undefined ? [`at most ${action.expect.maxSizeBytes} bytes`] : []),
    ...(action.dsn?.action ? [`Action ${action.dsn.action}`] : []),
    ...(action.dsn?.status ? [`Status ${action.dsn.status.written}`] : []),
  ];
  return { label: `mailbox ${action.mailbox}: ${what}`, expected: checks.length > 0 ? `delivered, ${checks.join(', ')}` : 'delivered' };
}
