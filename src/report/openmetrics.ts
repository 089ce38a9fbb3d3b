import type { CaseResult, RunResult, StepResult } from '../engine/results.js';
import type { Reporter } from '../engine/events.js';
import type { Sink } from './sink.js';
import { formatTarget } from './format.js';
import { certificateNotAfterMs } from './session-timings.js';

/**
 * OpenMetrics text (https://openmetrics.io) of a run, for node_exporter's textfile collector and for
 * `smtpspec exporter`: gauges with `# TYPE`, `# UNIT`, `# HELP`, label values escaped, `# EOF` last.
 * Only gauges and counters are written, which the older Prometheus text format reads as well.
 */

export type MetricType = 'gauge' | 'counter';

export interface MetricSample {
  labels: [name: string, value: string][];
  value: number;
}

export interface MetricFamily {
  /** Without `_total` for a counter. */
  name: string;
  type: MetricType;
  /** `seconds`: the name ends with `_seconds`. */
  unit?: string;
  help: string;
  samples: MetricSample[];
}

export class OpenMetricsReporter implements Reporter {
  constructor(private readonly sink: Sink) {}

  async onEnd(result: RunResult): Promise<void> {
    this.sink.write(buildOpenMetrics(result));
    await this.sink.close();
  }
}

/** The whole exposition of a run, with any further families after the run's own, ending with `# EOF`. */
export function buildOpenMetrics(result: RunResult, extra: MetricFamily[] = []): string {
  return formatOpenMetrics([...runFamilies(result), ...extra]);
}

export function formatOpenMetrics(families: MetricFamily[]): string {
  return families.map(formatFamily).join('') + '# EOF\n';
}

/** The run's families: cases that ran (skipped ones are left out), their steps that ran, certificates per target. */
export function runFamilies(result: RunResult): MetricFamily[] {
  const ran = result.cases.filter((item) => item.status !== 'skipped');
  const named = caseLabels(ran);
  const ranSteps = ran.flatMap((item, i) => item.steps.filter((step) => step.status !== 'skipped').map((step) => ({ step, labels: [...named[i]!, stepLabel(step)] })));
  const families: MetricFamily[] = [
    {
      name: 'smtpspec_case_success',
      type: 'gauge',
      help: 'Whether the case passed (1) or not (0).',
      samples: ran.map((item, i) => ({ labels: named[i]!, value: item.status === 'passed' ? 1 : 0 })),
    },
    {
      name: 'smtpspec_case_duration_seconds',
      type: 'gauge',
      unit: 'seconds',
      help: 'How long the case took, from the start of its session to its end.',
      samples: ran.map((item, i) => ({ labels: named[i]!, value: seconds(item.durationMs) })),
    },
    {
      name: 'smtpspec_step_duration_seconds',
      type: 'gauge',
      unit: 'seconds',
      help: 'How long the step took.',
      samples: ranSteps.map(({ step, labels }) => ({ labels, value: seconds(step.durationMs) })),
    },
    {
      name: 'smtpspec_reply_code',
      type: 'gauge',
      help: 'The reply code of the last reply the step read.',
      samples: ranSteps.flatMap(({ step, labels }) => {
        const code = lastReplyCode(step);
        return code === undefined ? [] : [{ labels, value: code }];
      }),
    },
    {
      name: 'smtpspec_check_verdict',
      type: 'gauge',
      help: 'Whether the DNS check step passed (1, a warning included) or failed or could not decide (0).',
      samples: ranSteps.flatMap(({ step, labels }) => (step.check ? [{ labels: [...labels, ['check', step.check.check]], value: step.check.verdict === 'pass' || step.check.verdict === 'warn' ? 1 : 0 }] : [])),
    },
    {
      name: 'smtpspec_dnssec_authenticated',
      type: 'gauge',
      help: 'Whether the TLSA answer of a DANE check step was DNSSEC-authenticated (1, the AD flag set) or not (0).',
      samples: ranSteps.flatMap(({ step, labels }) =>
        step.check?.check === 'dane' && step.check.verdict !== 'error' ? [{ labels: [...labels, ['check', 'dane']], value: step.check.facts.authenticated ? 1 : 0 }] : [],
      ),
    },
    {
      name: 'smtpspec_tls_certificate_not_after_timestamp_seconds',
      type: 'gauge',
      unit: 'seconds',
      help: 'When the certificate the target showed stops being valid, in seconds since the epoch (the soonest, when it showed several).',
      samples: certificates(ran),
    },
    {
      name: 'smtpspec_run_timestamp_seconds',
      type: 'gauge',
      unit: 'seconds',
      help: 'When the run started, in seconds since the epoch.',
      samples: [{ labels: [], value: Date.parse(result.startedAt) / 1000 || 0 }],
    },
  ];
  return families;
}

function formatFamily(family: MetricFamily): string {
  const lines = [`# TYPE ${family.name} ${family.type}`];
  if (family.unit) lines.push(`# UNIT ${family.name} ${family.unit}`);
  lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
  const sampleName = `${family.name}${sampleSuffix(family.type)}`;
  for (const sample of family.samples) lines.push(`${sampleName}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
  return lines.join('\n') + '\n';
}

function sampleSuffix(type: MetricType): string {
  switch (type) {
    case 'gauge':
      return '';
    case 'counter':
      return '_total';
  }
}

function formatLabels(labels: [string, string][]): string {
  if (labels.length === 0) return '';
  return `{${labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

/** Label values: backslash, double quote and line feed escaped, as OpenMetrics and Prometheus define. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}

/** `{file, case, target}` per case; a name repeated for the same file and target gets ` (2)`, ` (3)`… so every series is unique. */
function caseLabels(cases: CaseResult[]): [string, string][][] {
  const seen = new Map<string, number>();
  return cases.map((item) => {
    const target = formatTarget(item.target);
    const key = `${item.file}\n${item.caseName}\n${target}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return [
      ['file', item.file],
      ['case', n === 1 ? item.caseName : `${item.caseName} (${n})`],
      ['target', target],
    ];
  });
}

/** `3. send: EHLO client.test`: numbered, since a case may send the same command twice. */
function stepLabel(step: StepResult): [string, string] {
  return ['step', `${step.index + 1}. ${step.label}`];
}

function lastReplyCode(step: StepResult): number | undefined {
  return step.replies?.at(-1)?.code ?? step.reply?.code;
}

function certificates(cases: CaseResult[]): MetricSample[] {
  const soonest = new Map<string, number>();
  for (const item of cases) {
    const notAfter = certificateNotAfterMs(item);
    if (notAfter === undefined) continue;
    const target = formatTarget(item.target);
    soonest.set(target, Math.min(notAfter, soonest.get(target) ?? Infinity));
  }
  return [...soonest].map(([target, ms]) => ({ labels: [['target', target]], value: ms / 1000 }));
}
