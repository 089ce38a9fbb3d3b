import { isSystemError } from '../errors.js';
import { internalFault } from '../engine/internal-fault.js';
import { EXIT } from './io.js';

/**
 * How the command line reports a fault in smtpspec itself (exit code 70): each with its stack, then
 * once what to do about it. The project names no issue tracker, so the line says what a report needs.
 */

export const REPORT_IT = 'please report this as a bug in smtpspec, with the command and the stack above';

/** `smtpspec: internal error<where>: <Name>: <message>` and the stack's frames, one block per fault, then REPORT_IT. */
export function printInternalErrors(stderr: NodeJS.WritableStream, faults: readonly { where?: string; stack: string }[]): void {
  for (const fault of faults) stderr.write(`smtpspec: internal error${fault.where ? ` ${fault.where}` : ''}: ${fault.stack}\n`);
  stderr.write(`smtpspec: ${REPORT_IT}\n`);
}

/**
 * The last resort for a fault no command caught: an exception thrown in a callback, a promise rejected with no
 * handler. Without it Node prints the stack and exits 1, the code of a failed case; a bug in smtpspec is 70.
 * An error the system raised (its errno code names it) is told in one sentence, exit 2, as for input.
 */
export function exitOnUncaughtFaults(proc: NodeJS.Process, stderr: NodeJS.WritableStream): void {
  const fail = (error: unknown): void => {
    if (isSystemError(error)) {
      stderr.write(`smtpspec: ${error.message}\n`);
      proc.exit(EXIT.unusable);
    }
    printInternalErrors(stderr, [internalFault(error, (text) => text)]);
    proc.exit(EXIT.internal);
  };
  proc.on('uncaughtException', fail);
  proc.on('unhandledRejection', fail);
}
