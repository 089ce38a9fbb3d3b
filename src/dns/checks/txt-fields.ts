/**
 * The `key=value; key=value` TXT records of MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3):
 * fields separated by `;` with optional spaces or tabs around it, a trailing `;` allowed.
 */

export type FieldsResult = { ok: true; fields: [name: string, value: string][] } | { ok: false; problem: string };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
/** Printable ASCII without `;` and `=` (the extension value grammar of both RFCs). */
const VALUE = /^[\x21-\x3a\x3c\x3e-\x7e]+$/;

export function parseFields(record: string): FieldsResult {
  const parts = record.split(/[ \t]*;[ \t]*/);
  if (parts[parts.length - 1] === '') parts.pop();
  const fields: [string, string][] = [];
  for (const part of parts) {
    const equals = part.indexOf('=');
    if (part === '') return { ok: false, problem: 'an empty field' };
    if (equals <= 0) return { ok: false, problem: `the field "${part}" has no name=value` };
    const name = part.slice(0, equals);
    const value = part.slice(equals + 1);
    if (!NAME.test(name)) return { ok: false, problem: `"${name}" is not a field name` };
    if (!VALUE.test(value) && name !== 'rua') return { ok: false, problem: `the value of ${name} ("${value}") has characters the record grammar forbids` };
    fields.push([name, value]);
  }
  return { ok: true, fields };
}

/**
 * The records that begin with the version field (`v=STSv1`), the others being discarded as the RFCs say.
 * The version must be the whole first field: `v=STSv10` is another version.
 */
export function versionRecords(records: string[], version: string): string[] {
  return records.filter((record) => new RegExp(`^v=${version}[ \\t]*(;|$)`).test(record));
}
