/** Programmatic API, for embedding smtpspec in other tools. */
export { loadScenarios, loadScenarioFile, parseScenario, type LoadOptions } from './scenario/load.js';
export type { Scenario, Case, Step, Target, ReplyExpectation } from './scenario/types.js';
export { runScenarios, planRun, type RunOptions, type WorkItem } from './engine/run.js';
export { runCase } from './engine/run-case.js';
export { matchReply, describeExpectation, describeReply } from './engine/match.js';
export type { RunResult, CaseResult, StepResult, CaseInfo, Status, RunCounts } from './engine/results.js';
export type { Reporter, RunInfo } from './engine/events.js';
export { ReporterMux } from './report/multiplex.js';
export { ConsoleReporter } from './report/console.js';
export { TapReporter } from './report/tap.js';
export { JUnitReporter } from './report/junit.js';
export { HtmlReporter, renderHtml, type HtmlRun, type HtmlOptions } from './report/html.js';
export { fileSink, streamSink, type Sink } from './report/sink.js';
export { startEmbeddedServer, type EmbeddedServer, type ReceivedMessage } from './server/embedded.js';
export { ScenarioError, UsageError, formatIssue, type SourceIssue, type SourcePos } from './errors.js';
