import type { MailboxDeadline, MailboxError } from './types.js';

/** The errors a bounded operation ends with, named by the caller (which knows the mailbox and the operation). */
export interface DeadlineErrors {
  timedOut(): MailboxError;
  interrupted(): MailboxError;
}

/**
 * Settles as `work` does, or rejects with `timedOut()` after `deadline.timeoutMs`, or with
 * `interrupted()` as soon as `deadline.signal` aborts; either way `giveUp` runs (it tears a connection
 * down), and a late rejection of `work` is ignored. Every wait of a mailbox goes through here.
 */
export function withinDeadline<T>(work: Promise<T>, deadline: MailboxDeadline, errors: DeadlineErrors, giveUp: () => void = () => {}): Promise<T> {
  work.catch(() => {});
  const { signal, timeoutMs } = deadline;
  if (signal?.aborted) {
    giveUp();
    return Promise.reject(errors.interrupted());
  }
  return new Promise<T>((resolve, reject) => {
    const fail = (error: MailboxError): void => {
      cleanup();
      giveUp();
      reject(error);
    };
    const onAbort = (): void => fail(errors.interrupted());
    const timer = setTimeout(() => fail(errors.timedOut()), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}
