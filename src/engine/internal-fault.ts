/**
 * A fault in smtpspec itself (a TypeError in its own code, say), as opposed to anything the server, the
 * network or the scenario did. A case that meets one ends as an error of kind `internal`, never retried;
 * the stack goes to whoever runs the engine (the command line prints it), not into reports.
 */
export interface InternalFault {
  /** The error's name and message, secrets masked: `TypeError: x is not a function`. */
  readonly message: string;
  /** The stack as Node prints it, built from the masked message and the error's frames, masked too. */
  readonly stack: string;
}

/** `error` as an InternalFault, every secret `mask` knows replaced. */
export function internalFault(error: unknown, mask: (text: string) => string): InternalFault {
  if (!(error instanceof Error)) {
    const message = `non-error thrown: ${mask(String(error))}`;
    return { message, stack: message };
  }
  const message = mask(`${error.name}: ${error.message}`);
  return { message, stack: `${message}${mask(stackFrames(error))}` };
}

/** The `    at …` lines of the error's stack, each after its line break; empty when it has none. */
export function stackFrames(error: Error): string {
  const stack = error.stack ?? '';
  const first = stack.search(/\n\s+at /);
  return first === -1 ? '' : stack.slice(first);
}
