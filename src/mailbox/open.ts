import type { MailboxDeadline, MailboxSession, MailboxSettings } from './types.js';

/** Opens a mailbox; each kind's module (and the client library it uses) is loaded only when a mailbox of that kind is opened. */
export async function openMailbox(settings: MailboxSettings, deadline: MailboxDeadline): Promise<MailboxSession> {
  switch (settings.kind) {
    case 'imap':
      return (await import('./imap.js')).openImap(settings, deadline);
    case 'pop3':
      return (await import('./pop3.js')).openPop3(settings, deadline);
    case 'maildir':
      return (await import('./maildir.js')).openMaildir(settings, deadline);
    case 'mbox':
      return (await import('./mbox.js')).openMbox(settings, deadline);
    case 'mailpit':
    case 'mailhog':
      return (await import('./catcher.js')).openCatcher(settings, deadline);
  }
}
