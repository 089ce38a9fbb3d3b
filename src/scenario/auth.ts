import { authKeys } from './as-written.js';
import { isRecord, type NormalizeContext, type Scope } from './context.js';
import type { DataPath } from './positions.js';
import type { AuthAction, AuthMechanism } from './types.js';

const MECHANISMS: readonly AuthMechanism[] = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'];

/** Mechanisms that send the first response with the AUTH command unless told otherwise. */
const INITIAL_RESPONSE_BY_DEFAULT = new Set<AuthMechanism>(['PLAIN', 'XOAUTH2']);

/** An AUTH exchange; password and token become secrets. Undefined (with problems recorded) when unusable. */
export function normalizeAuth(ctx: NormalizeContext, scope: Scope, written: unknown, path: DataPath): AuthAction | undefined {
  if (!isRecord(written)) return undefined;
  const mechanism = MECHANISMS.find((name) => name === written['mechanism']);
  if (!mechanism || typeof written['username'] !== 'string') return undefined; // the schema reports it
  const problems = ruleProblems(ctx, written, path, mechanism);
  const field = (key: string): string | undefined => {
    const value = written[key];
    return typeof value === 'string' ? ctx.expand(scope, value, [...path, key], { label: `auth ${key}` }) : undefined;
  };
  const [username, password, token, authzid] = [field('username'), field('password'), field('token'), field('authzid')];
  ctx.secret(password);
  ctx.secret(token);
  if (problems > 0 || username === undefined) return undefined;
  const initial = written['initial_response'];
  return {
    type: 'auth',
    mechanism,
    username,
    ...(password === undefined ? {} : { password }),
    ...(token === undefined ? {} : { token }),
    ...(authzid === undefined ? {} : { authzid }),
    initialResponse: typeof initial === 'boolean' ? initial : INITIAL_RESPONSE_BY_DEFAULT.has(mechanism),
    cancel: written['cancel'] === true,
  };
}

/** Which credentials go with which mechanism; returns how many problems were recorded. */
function ruleProblems(ctx: NormalizeContext, written: Record<string, unknown>, path: DataPath, mechanism: AuthMechanism): number {
  const before = ctx.issues.length;
  const [needed, wrong] = mechanism === 'XOAUTH2' ? ['token', 'password'] : ['password', 'token'];
  if (written[wrong] !== undefined) {
    ctx.error(ctx.keyAt(path, wrong), `${mechanism} takes "${needed}", not "${wrong}"`);
  } else if (written[needed] === undefined && Object.keys(written).every((key) => key in authKeys)) {
    // With an unknown key about, a misspelt "password" is likelier, and is reported already.
    ctx.error(ctx.at(path), `${mechanism} needs "${needed}"`);
  }
  if (written['authzid'] !== undefined && mechanism !== 'PLAIN') {
    ctx.error(ctx.keyAt(path, 'authzid'), `"authzid" goes only with PLAIN, not ${mechanism}`);
  }
  if (written['initial_response'] === true && mechanism === 'CRAM-MD5') {
    ctx.error(
      ctx.keyAt(path, 'initial_response'),
      'CRAM-MD5 cannot send an initial response: the server speaks first with its challenge (RFC 2195)',
    );
  }
  return ctx.issues.length - before;
}
