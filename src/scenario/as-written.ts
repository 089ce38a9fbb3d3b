/**
 * Scenario files as written in YAML, after the JSON schema has accepted them.
 * These types mirror schema/scenario.schema.json; the key tables below make the
 * compiler list every key, and a test compares them with the schema.
 */

/** A variable's value; numbers and booleans become text. */
export type VarValueAsWritten = string | number | boolean;

export type VarsAsWritten = Record<string, VarValueAsWritten>;

/** `250`, `"2xx"`, `"550 5.1.1"`, `"5.7.1"`. */
export type ExpectCodeAsWritten = number | string;

/** One alternative or a non-empty list of them (any one may match). */
export type ExpectAsWritten = ExpectCodeAsWritten | ExpectCodeAsWritten[];

export interface TargetMapAsWritten {
  host: string;
  port?: number;
}

/** `"host"`, `"host:port"`, `"[::1]:25"`, or a map with host and port. */
export type TargetAsWritten = string | TargetMapAsWritten;

export interface StepAsWritten {
  name?: string;
  send?: string;
  data?: string;
  expect?: ExpectAsWritten;
  text?: string;
  /** A duration such as `"500ms"`, `"30s"`, `"2m"`. */
  timeout?: string;
}

export interface CaseAsWritten {
  name: string;
  timeout?: string;
  vars?: VarsAsWritten;
  steps: StepAsWritten[];
}

export interface ScenarioFile {
  name?: string;
  description?: string;
  target?: TargetAsWritten;
  timeout?: string;
  vars?: VarsAsWritten;
  cases: CaseAsWritten[];
}

/** Every key of T, each marked as it is in T; the compiler rejects missing or extra keys. */
export type KeyTable<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? 'optional' : 'required' };

export const scenarioFileKeys: KeyTable<ScenarioFile> = {
  name: 'optional',
  description: 'optional',
  target: 'optional',
  timeout: 'optional',
  vars: 'optional',
  cases: 'required',
};

export const caseKeys: KeyTable<CaseAsWritten> = {
  name: 'required',
  timeout: 'optional',
  vars: 'optional',
  steps: 'required',
};

export const stepKeys: KeyTable<StepAsWritten> = {
  name: 'optional',
  send: 'optional',
  data: 'optional',
  expect: 'optional',
  text: 'optional',
  timeout: 'optional',
};

export const targetKeys: KeyTable<TargetMapAsWritten> = {
  host: 'required',
  port: 'optional',
};
