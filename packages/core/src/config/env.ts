/**
 * `${VAR}` references in parley.yaml (DESIGN §6): secrets stay in the environment, the file
 * stays in version control.
 */
import { ConfigError, type ConfigIssue } from '../errors.js';
import { formatIssuePath } from './zod-issues.js';

/** `${NAME}`, or `$${NAME}` for a literal `${NAME}`. Anything between the braces is captured so
 * a malformed name (`${GENESYS-SECRET}`) is reported instead of silently kept as text. */
const REFERENCE = /\$(\$?)\{([^}]*)\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces every `${VAR}` inside every string of `value` (a parsed YAML document) with
 * `env.VAR`, also inside longer strings (`https://${HOST}/x`). `$${VAR}` stands for a literal
 * `${VAR}`. Keys and non-string values are left alone.
 *
 * @throws ConfigError with code `CONFIG_ENV_MISSING` listing every unset or empty variable, each
 *   issue at the key path of the string that referenced it.
 */
export function interpolateEnv(value: unknown, env: Record<string, string | undefined>): unknown {
  const issues: ConfigIssue[] = [];
  let missing = false;

  const substitute = (text: string, path: readonly PropertyKey[]): string =>
    text.replace(REFERENCE, (reference, escape: string, name: string) => {
      if (escape) return reference.slice(1);
      if (!VARIABLE_NAME.test(name)) {
        issues.push({
          path: formatIssuePath(path),
          message: `"${reference}" is not a valid environment variable reference (use letters, digits and _; write $${reference} for a literal)`,
        });
        return reference;
      }
      const resolved = env[name];
      if (resolved === undefined || resolved === '') {
        missing = true;
        issues.push({
          path: formatIssuePath(path),
          message: `environment variable ${name} is ${resolved === undefined ? 'not set' : 'empty'}`,
        });
        return reference;
      }
      return resolved;
    });

  const walk = (node: unknown, path: readonly PropertyKey[]): unknown => {
    if (typeof node === 'string') return substitute(node, path);
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (isPlainObject(node)) {
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, [...path, key])]));
    }
    return node;
  };

  const result = walk(value, []);
  if (issues.length > 0) {
    throw new ConfigError(issues, { code: missing ? 'CONFIG_ENV_MISSING' : 'CONFIG_INVALID' });
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
