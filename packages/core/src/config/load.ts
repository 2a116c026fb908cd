/**
 * Reads parley.yaml: YAML → `${VAR}` interpolation → schema validation. Every failure is a
 * {@link ConfigError} whose issues name the file, line or key path, and the reason.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { interpolateEnv } from './env.js';
import { parleyConfigSchema, type ParleyConfig } from './schema.js';
import { formatZodIssues } from './zod-issues.js';

export interface ParseConfigOptions {
  /** Variables for `${VAR}`; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where the text came from, for messages (a file path); default `parley.yaml`. */
  source?: string;
}

/**
 * Parses and validates the text of a parley.yaml.
 *
 * @throws ConfigError `CONFIG_FILE` for YAML syntax errors (with line and column),
 *   `CONFIG_ENV_MISSING` for unset variables, `CONFIG_INVALID` for schema violations.
 */
export function parseConfig(text: string, options: ParseConfigOptions = {}): ParleyConfig {
  const source = options.source ?? 'parley.yaml';
  const document = interpolateEnv(parseYaml(text, source), options.env ?? process.env);
  const result = parleyConfigSchema.safeParse(document ?? {});
  if (!result.success) throw new ConfigError(formatZodIssues(result.error), { details: { source } });
  return result.data;
}

/**
 * Reads and validates a parley.yaml file.
 *
 * @throws ConfigError `CONFIG_FILE` when the file is missing or unreadable, else as {@link parseConfig}.
 */
export async function loadConfigFile(path: string, options: Omit<ParseConfigOptions, 'source'> = {}): Promise<ParleyConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT' ? `Config file not found: ${path}` : `Cannot read config file ${path}: ${code ?? String(error)}`;
    throw new ConfigError([{ path: '', message }], { code: 'CONFIG_FILE', cause: error, details: { source: path } });
  }
  return parseConfig(text, { ...options, source: path });
}

/**
 * `${VAR}` is not a valid plain scalar inside a YAML flow mapping (`options: { token: ${TOKEN} }`,
 * the form DESIGN §6 shows), so references are disguised with look-alike braces for the parser and
 * restored afterwards. The look-alikes are single UTF-16 units: line and column numbers stay right.
 */
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const DISGUISED_REFERENCE = /\$\u2983([A-Za-z_][A-Za-z0-9_]*)\u2984/g;

function parseYaml(text: string, source: string): unknown {
  const lineCounter = new LineCounter();
  const document = parseDocument(text.replace(REFERENCE, '$\u2983$1\u2984'), { lineCounter, prettyErrors: false });
  // Only the first error: the ones after it are usually the parser losing its footing.
  const [error] = document.errors;
  if (error) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw new ConfigError([{ path: '', message: `Invalid YAML in ${source} at line ${line}, column ${col}: ${error.message}` }], {
      code: 'CONFIG_FILE',
      details: { source, line, column: col, yamlCode: error.code },
    });
  }
  try {
    return restoreReferences(document.toJS());
  } catch (cause) {
    // e.g. an alias bomb that exceeds yaml's alias limit
    throw new ConfigError([{ path: '', message: `Invalid YAML in ${source}: ${(cause as Error).message}` }], {
      code: 'CONFIG_FILE',
      cause,
      details: { source },
    });
  }
}

function restoreReferences(node: unknown): unknown {
  if (typeof node === 'string') return node.replace(DISGUISED_REFERENCE, '$${$1}');
  if (Array.isArray(node)) return node.map(restoreReferences);
  if (typeof node === 'object' && node !== null) {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [restoreReferences(key), restoreReferences(value)]));
  }
  return node;
}
