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
