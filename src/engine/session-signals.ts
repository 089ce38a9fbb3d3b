/**
 * A run's interruption, passed on to each of its sessions through one listener on the run's
 * signal. A listener per session on that one signal would put as many on it as there are sessions
 * at once (hundreds with --concurrency), and Node warns about a leak past ten.
 */
export class SessionSignals {
  private readonly open = new Set<AbortController>();
  private readonly onAbort = (): void => {
    for (const controller of this.open) controller.abort(this.run.reason);
    this.open.clear();
  };

  constructor(private readonly run: AbortSignal) {
    run.addEventListener('abort', this.onAbort, { once: true });
  }

  /** A signal for one session, aborted when the run's is (at once if it already was); `release` it when the session ends. */
  take(): { signal: AbortSignal; release: () => void } {
    const controller = new AbortController();
    if (this.run.aborted) controller.abort(this.run.reason);
    else this.open.add(controller);
    return { signal: controller.signal, release: () => this.open.delete(controller) };
  }

  /** Takes the listener off the run's signal, which may outlive the run (a library caller's, used for several runs). */
  dispose(): void {
    this.run.removeEventListener('abort', this.onAbort);
    this.open.clear();
  }
}
