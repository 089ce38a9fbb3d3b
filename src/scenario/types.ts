import type { SourcePos } from '../errors.js';

/**
 * Scenario files after loading, validation, interpolation and normalisation:
 * plain data, every shorthand expanded, every step tied to its source position.
 * The shapes as written in YAML live in `as-written.ts` and mirror the JSON schema.
 */

/** Where to connect. */
export interface Target {
  host: string;
  port: number;
}

/** One alternative of a reply expectation: a code pattern and/or an enhanced status code pattern. */
export interface CodeAlternative {
  /** `250`, `25x`, `2xx`; undefined means any code. */
  code?: string;
  /** RFC 3463 pattern such as `5.1.1` or `5.1.x`; undefined means not checked. */
  enhanced?: string;
}

/** A regular expression on the reply text; `source` and `flags` as in `new RegExp(source, flags)`. */
export interface TextPattern {
  source: string;
  flags: string;
  /** How the user wrote it, for messages: `/ESMTP/i` or the plain substring. */
  written: string;
}

/** What a step expects of the reply it reads. All present parts must hold. */
export interface ReplyExpectation {
  /** Any one alternative must match; empty means any reply code is accepted. */
  anyOf: CodeAlternative[];
  text?: TextPattern;
}

/** What a step does before reading a reply. */
export type StepAction =
  /** Only read a reply (the greeting, or an unsolicited reply). */
  | { type: 'read' }
  /** Send one command line; the engine appends CRLF. Never contains CR or LF. */
  | { type: 'send'; line: string }
  /** Send a message body after a 354: LF → CRLF, dot-stuffing, `CRLF.CRLF`. */
  | { type: 'data'; body: string };

export interface Step {
  /** 0-based position within its case. */
  index: number;
  pos: SourcePos;
  /** Optional label from the file (`name:`); reports fall back to a description of the action. */
  name?: string;
  action: StepAction;
  /** undefined: the reply is read but any reply code passes. */
  expect?: ReplyExpectation;
  /** Deadline for this step's reply. */
  timeoutMs: number;
}

export interface Case {
  /** 0-based position within its file. */
  index: number;
  name: string;
  pos: SourcePos;
  steps: Step[];
}

export interface Scenario {
  /** The path as the user gave it (relative paths stay relative: reports show them). */
  file: string;
  name: string;
  /** The file's own target; `--target` or `--embedded` override it. */
  target?: Target;
  /** Deadline for connecting and for each reply when a step sets none. */
  timeoutMs: number;
  cases: Case[];
  /** Values that must never appear in any output (from `${env:…}`). */
  secrets: string[];
}

/** The default deadline for each reply (and for connecting), 30 s. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** The SMTP port used when a target names none. */
export const DEFAULT_PORT = 25;
