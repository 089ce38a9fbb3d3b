/**
 * The environment for checking or showing files where the secrets are not (a lint job in CI):
 * an unset variable reads as a placeholder (`<NAME>`, masked when the name is secret) and is noted
 * in `missing` instead of failing. `run` still refuses to start without it.
 */
export function lenientEnv(env: Record<string, string | undefined>, missing: Set<string>): Record<string, string | undefined> {
  return new Proxy(env, {
    get(target, name) {
      if (typeof name !== 'string' || target[name] !== undefined) return target[name as string];
      missing.add(name);
      return `<${name}>`;
    },
  });
}
