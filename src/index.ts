/** Programmatic API, for embedding smtpspec in other tools: the planner, the driver and the reporters `smtpspec run` uses. */
export { loadScenarios, loadScenarioFile, parseScenario, type LoadOptions } from './scenario/load.js';
export type { Scenario, Case, Step, Target, ServerTarget, PlaceholderTarget, ReplyExpectation } from './scenario/types.js';
export { parseTarget } from './scenario/target.js';
export { formatTarget } from './engine/target-label.js';
export { planWork, withTargets, type PlanOptions, type Plan, type WorkItem } from './engine/plan.js';
export { parseShard, type Shard } from './engine/shard-spec.js';
export {
  runWork,
  planAndRun,
  BAIL_REASON,
  INTERRUPTED_REASON,
  DEFAULT_CONCURRENCY,
  DEFAULT_PER_HOST_LIMIT,
  type RunOptions,
  type TranscriptListener,
} from './engine/run.js';
export { runCase } from './engine/run-case.js';
export { matchReply, describeExpectation, describeReply } from './engine/match.js';
export { countResults } from './engine/results.js';
export type { RunResult, CaseResult, StepResult, CaseInfo, CaseFailure, FailureKind, Status, RunCounts, TranscriptEntry, DeliveryResult, DeliveredMessage } from './engine/results.js';
export type { Reporter, RunInfo } from './engine/events.js';
export { ReporterMux, type ReporterFailure } from './report/multiplex.js';
export { ConsoleReporter, type ConsoleReporterOptions } from './report/console.js';
export { TapReporter } from './report/tap.js';
export { JUnitReporter, type JUnitReporterOptions } from './report/junit.js';
export { JsonReporter } from './report/json.js';
export { HtmlReporter, renderHtml, type HtmlRun, type HtmlOptions } from './report/html.js';
export { LiveTranscript, type LiveTranscriptOptions } from './report/live-transcript.js';
export { fileSink, streamSink, memorySink, type Sink, type MemorySink } from './report/sink.js';
export { startEmbeddedServer, embeddedCaFile, type EmbeddedServer, type EmbeddedServerOptions, type ReceivedMessage } from './server/embedded.js';
export { SmtpError, type SmtpErrorKind } from './smtp/types.js';
export { ScenarioError, UsageError, formatIssue, type SourceIssue, type SourcePos } from './errors.js';
