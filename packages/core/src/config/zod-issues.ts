/**
 * Turns zod issues into the short, readable reasons operators see in a config error
 * (`Required`, `Expected number, received string`, `Unknown key "prot"`).
 *
 * Only zod's own English defaults are rewritten: a message a schema author chose
 * (`z.string({ error: 'Paste the bot token here' })`) is kept as written.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../errors.js';

type ZodIssue = z.core.$ZodIssue;

const englishMessages = z.locales.en().localeError;

/** zod's default invalid_type message; the received type is only in the text once the issue is final. */
const DEFAULT_INVALID_TYPE = /^Invalid input: expected (\S+), received (\S+)$/;

/** Joins a key path the way config issues name it: `connectors.support-telegram.options.token`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.map((segment) => String(segment)).join('.');
}

/**
 * Maps zod issues to {@link ConfigIssue}s: the path joined with `.` (after `prefix`), the reason
 * in plain words. An unknown-keys issue becomes one issue per key.
 */
export function formatZodIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): ConfigIssue[] {
  return error.issues.flatMap((issue) => {
    const path = formatIssuePath([...prefix, ...issue.path]);
    if (issue.code === 'unrecognized_keys' && isDefaultMessage(issue)) {
      return issue.keys.map((key) => ({ path, message: `Unknown key "${key}"` }));
    }
    return [{ path, message: describeZodIssue(issue) }];
  });
}

/** The reason of one zod issue in plain words, without its path. */
export function describeZodIssue(issue: ZodIssue): string {
  if (!isDefaultMessage(issue)) return issue.message;
  switch (issue.code) {
    case 'invalid_type': {
      const received = DEFAULT_INVALID_TYPE.exec(issue.message)?.[2];
      if (received === 'undefined') return 'Required';
      return `Expected ${PLAIN_TYPE_NAMES[issue.expected] ?? issue.expected}, received ${received}`;
    }
    case 'invalid_value':
      return issue.values.length === 1
        ? `Expected ${quote(issue.values[0])}`
        : `Expected one of ${issue.values.map(quote).join(', ')}`;
    case 'too_small':
      return describeBound('at least', 'more than', issue.minimum, issue);
    case 'too_big':
      return describeBound('at most', 'less than', issue.maximum, issue);
    case 'invalid_format':
      return issue.message.replace(/^Invalid string: must/, 'Must');
    case 'not_multiple_of':
      return `Must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      return `Unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map(quote).join(', ')}`;
    case 'invalid_key':
    case 'invalid_element': {
      const inner = issue.issues[0];
      return inner ? describeZodIssue(inner) : issue.message;
    }
    case 'invalid_union': {
      const options = 'options' in issue ? issue.options : undefined;
      return options?.length ? `Expected one of ${options.map(quote).join(', ')}` : issue.message;
    }
    default:
      return issue.message;
  }
}

function describeBound(
  inclusiveWord: string,
  exclusiveWord: string,
  limit: number | bigint,
  issue: { origin: string; inclusive?: boolean; exact?: boolean },
): string {
  const bound = issue.exact ? 'exactly' : issue.inclusive === false ? exclusiveWord : inclusiveWord;
  if (issue.origin === 'string') {
    if (bound === 'at least' && limit === 1) return 'Must not be empty';
    return `Must be ${bound} ${plural(limit, 'character')}`;
  }
  const unit = COLLECTION_UNITS[issue.origin];
  return unit ? `Must have ${bound} ${plural(limit, unit)}` : `Must be ${bound} ${String(limit)}`;
}

/** zod's names for what it expected, in the words of someone writing YAML or JSON. */
const PLAIN_TYPE_NAMES: Record<string, string> = { int: 'integer', record: 'object', nonoptional: 'a value' };

const COLLECTION_UNITS: Record<string, string> = { array: 'item', set: 'item', map: 'entry', file: 'byte' };

function plural(count: number | bigint, unit: string): string {
  if (count === 1 || count === 1n) return `1 ${unit}`;
  return `${String(count)} ${unit === 'entry' ? 'entries' : `${unit}s`}`;
}

function isDefaultMessage(issue: ZodIssue): boolean {
  if (issue.code === 'invalid_type') return DEFAULT_INVALID_TYPE.test(issue.message);
  const message = englishMessages(issue as unknown as Parameters<typeof englishMessages>[0]);
  const text = typeof message === 'string' ? message : message?.message;
  return text === issue.message;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
