import assert from 'node:assert/strict';
import { formatIssue, ScenarioError, type SourceIssue } from '../../src/errors.js';
import { loadScenarioFile, parseScenario, type LoadOptions } from '../../src/scenario/load.js';
import { sourcePath } from '../helpers/paths.js';

/** The issues a broken fixture produces, as `line:col: message` lines. */
/** Files a broken fixture names but does not ship are collected, so each fixture shows its own problem. */
export async function fixtureProblems(name: string, options: LoadOptions = { env: {}, missingFiles: new Set() }): Promise<string[]> {
  const file = sourcePath('test/scenario/fixtures/broken', name);
  const error = await loadScenarioFile(file, options).then(
    () => assert.fail(`${name} loaded without errors`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ScenarioError, `${name}: ${String(error)}`);
  return error.issues.map((issue) => {
    assert.equal(issue.pos.file, file);
    return formatIssue(issue).slice(file.length + 1);
  });
}

/** The issues of an inline source, as `line:col: message` lines. */
export function inlineProblems(source: string, options: LoadOptions = { env: {} }): string[] {
  try {
    parseScenario(source, 'inline.yaml', options);
  } catch (error) {
    assert.ok(error instanceof ScenarioError, String(error));
    return error.issues.map((issue) => formatIssue(issue).slice('inline.yaml:'.length));
  }
  return assert.fail('parsed without errors');
}

/** Warnings as `line:col: message` lines. */
export function warningLines(warnings: SourceIssue[]): string[] {
  return warnings.map((warning) => `${warning.pos.line}:${warning.pos.col}: ${warning.message}`);
}

/** One case with the given steps (YAML flow or block lines), after an optional head. */
export function withSteps(steps: string[], head = ''): string {
  return `${head}${head ? '\n' : ''}cases:\n  - name: a\n    steps:\n${steps.map((step) => `      - ${step}\n`).join('')}`;
}
