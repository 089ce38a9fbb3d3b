import assert from 'node:assert/strict';
import { ScenarioError, UsageError } from '../../src/errors.js';

/**
 * Asserts that a loader failed the way it must: a ScenarioError (or a UsageError) whose issues
 * all point into the file and say what is wrong in one line. Anything else is a loader bug.
 */
export function assertCleanFailure(error: unknown, file: string, bytes: Buffer, context: string): void {
  if (error instanceof UsageError) {
    assert.ok(error.message.length > 0 && !/[\r\n]/.test(error.message), `${context}: ${error.message}`);
    return;
  }
  if (!(error instanceof ScenarioError)) {
    assert.fail(`${context}: threw ${error instanceof Error ? error.stack : String(error)}`);
  }
  assert.ok(error.issues.length > 0, `${context}: a ScenarioError without issues`);
  const lineLengths = bytes.toString('utf8').split('\n').map((line) => line.length);
  for (const { pos, message } of error.issues) {
    const where = `${context}: ${pos.line}:${pos.col}: ${JSON.stringify(message)}`;
    assert.equal(pos.file, file, where);
    assert.ok(Number.isInteger(pos.line) && pos.line >= 1 && pos.line <= lineLengths.length + 1, `${where}: line out of range`);
    const lineLength = lineLengths[pos.line - 1] ?? 0;
    assert.ok(Number.isInteger(pos.col) && pos.col >= 1 && pos.col <= lineLength + 1, `${where}: column out of range`);
    assert.ok(message.trim().length > 0, `${where}: empty message`);
    assert.ok(!/[\r\n]/.test(message), `${where}: line break in the message`);
  }
}
