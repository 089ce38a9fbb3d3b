/** What a worker process is asked to measure, and what it reports back. */

export type Job =
  | { kind: 'floor-sessions'; port: number; sessions: number; concurrency: number }
  | { kind: 'smtpspec-sessions'; port: number; sessions: number; concurrency: number }
  | { kind: 'smtpspec-hold'; port: number; sessions: number }
  /** `shared`: whether the sessions share their replies, transcript entries and step heads, as a run's do. */
  | { kind: 'smtpspec-retained'; port: number; sessions: number; concurrency: number; shared: boolean }
  | { kind: 'floor-stream'; port: number; file: string }
  | { kind: 'smtpspec-stream'; port: number; file: string };

export interface JobResult {
  /** Wall time of the measured part alone (no start-up, no warm-up). */
  wallMs: number;
  /** CPU time (user and system) of the worker during the measured part. */
  cpuMs: number;
  /** Peak resident set size of the worker process. */
  peakRssMb: number;
  /** Sessions that ended as expected, and those that did not. */
  passed: number;
  failed: number;
  /** The first failure, if any. */
  firstError?: string;
  /** Session jobs: a second timed batch in the same process, once everything is compiled and the heap has grown. */
  warm?: { wallMs: number; cpuMs: number };
  /** Retained jobs: heap kept for each finished case while the run holds its results. */
  keptBytesPerCase?: number;
}
