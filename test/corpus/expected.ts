/**
 * What the CLI prints for each broken file in scenarios/ and manifests/ (paths left out):
 * one `line:col: message` per problem. Scenarios are checked with `validate`, manifests with
 * `run` (which checks everything before it connects anywhere).
 */

const ALIASES = 'the YAML aliases expand too far (more than 100 uses): reuse fewer anchors';
const TABS = 'YAML syntax error: tabs are not allowed as indentation, use spaces';
const EXPECT = 'expect must be a reply code (250), a pattern ("2xx", "550 5.1.1", "5.7.1") or a list of them';
const UTF16 = 'the file is UTF-16 text (it starts with a UTF-16 byte order mark): save it as UTF-8';
/** A file with no YAML in it cannot say it is a manifest, so it is read as a scenario. */
const EMPTY_SCENARIO = 'the file is empty: a scenario needs at least "cases:"';

export const expectedScenarios: Record<string, string[]> = {
  'alias-loop.yaml': ['4:29: the YAML alias *condition is inside the value it names, so that value would never end'],
  'billion-laughs-lists.yaml': [`3:8: ${ALIASES}`],
  'billion-laughs-maps.yaml': [`3:14: ${ALIASES}`],
  'billion-laughs-steps.yaml': [`6:9: ${ALIASES}`],
  'billion-laughs-variables.yaml': ['9:7: variables expand to more than 64 MB of text in this file: use fewer or shorter values'],
  'binary-junk.yaml': ['1:2: the file is not UTF-8 text: byte 0x8B is not valid here'],
  'cr-line-endings.yaml': ['1:34: the lines of the file end in CR alone: save it with LF or CRLF line endings'],
  'duplicate-keys.yaml': [
    '7:9: duplicate key "expect": a key may appear only once in a map',
    '9:27: duplicate key "send": a key may appear only once in a map',
  ],
  'empty.yaml': [`1:1: ${EMPTY_SCENARIO}`],
  'not-utf8.yaml': ['1:10: the file is not UTF-8 text: byte 0xE9 is not valid here'],
  'nul-byte.yaml': ['1:12: the file contains a NUL byte: it is not YAML text'],
  'only-comments.yaml': [`1:1: ${EMPTY_SCENARIO}`],
  'send-crlf-quoted.yaml': ['5:15: send must be one line: it contains a line break'],
  'send-crlf-variable.yaml': ['7:15: send must be one line: variable "helo" contains a line break'],
  'tabs.yaml': [`3:1: ${TABS}`, `4:1: ${TABS}`, `5:1: ${TABS}`],
  'two-documents.yaml': ['6:1: the file holds more than one YAML document ("---"): a scenario file is one document'],
  'undefined-variables.yaml': ['3:11: undefined variable "someone"', '9:15: undefined variable "rcpt"'],
  'unknown-keys.yaml': [
    '2:1: unknown key "taget" at the top level (did you mean "target"?)',
    '5:5: unknown key "setps" in a case (did you mean "steps"?)',
    '7:9: unknown key "sned" in a step (did you mean "send"?)',
  ],
  'utf16-bom.yaml': [`1:1: ${UTF16}`],
  'variable-chain.yaml': ['35:8: variables refer to each other more than 32 levels deep: v0 → … → v32'],
  'variable-fan-out.yaml': ['33:8: undefined variable "nope"'],
  'wrong-types.yaml': [
    '1:7: name must be a string',
    '2:10: timeout must be a duration such as "500ms", "30s" or "2m"',
    '6:15: send must be a string',
    `7:17: ${EXPECT}`,
    '10:17: within must be a duration such as "500ms", "30s" or "2m"',
  ],
  'yaml-syntax.yaml': ['7:1: YAML syntax error: flow sequence in block collection must be sufficiently indented and end with a ]'],
};

export const expectedManifests: Record<string, string[]> = {
  'alias-loop.yaml': ['4:11: the YAML alias *targets is inside the value it names, so that value would never end'],
  'billion-laughs.yaml': [`4:12: ${ALIASES}`],
  'binary-junk.yaml': ['3:5: the file is not UTF-8 text: byte 0xFF is not valid here'],
  'duplicate-keys.yaml': ['5:5: duplicate key "port": a key may appear only once in a map'],
  'empty.yaml': [`1:1: ${EMPTY_SCENARIO}`],
  'not-utf8.yaml': ['4:12: the file is not UTF-8 text: byte 0xFC is not valid here'],
  'only-comments.yaml': [`1:1: ${EMPTY_SCENARIO}`],
  'tabs.yaml': [`3:1: ${TABS}`],
  'two-documents.yaml': ['4:1: the file holds more than one YAML document ("---"): a manifest is one document'],
  'unknown-keys.yaml': [
    '2:1: unknown key "defualts" at the top level (did you mean "defaults"?)',
    '5:5: unknown key "prot" in a target (did you mean "port"?)',
  ],
  'utf16-bom.yaml': [`1:1: ${UTF16}`],
  'wrong-types.yaml': [
    '1:12: scenarios must be a list of files, folders and patterns',
    '2:13: dns_server must be text',
    '5:11: port must be a whole number from 1 to 65535',
    '6:11: tags must be a list',
    '7:13: domain must be text',
  ],
  'yaml-syntax.yaml': ['2:1: YAML syntax error: flow sequence in block collection must be sufficiently indented and end with a ]'],
};
