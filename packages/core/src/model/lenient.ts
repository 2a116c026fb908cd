/**
 * Lenient parsing for payloads we do not control: a malformed part is dropped with a warning
 * instead of failing the whole payload. Genesys adds fields and values over time, and one odd
 * field must not cost the customer an agent's message.
 */
import type { z } from 'zod';
import { describeZodIssue, formatIssuePath } from '../config/zod-issues.js';

export type LenientResult<T> = { ok: true; value: T; warnings: string[] } | { ok: false; error: string };

interface Drop {
  /** What gets removed: the field or array element that holds the problem. */
  target: PropertyKey[];
  /** `path: reason` of the issue that caused the drop. */
  reason: string;
  /** Whether the issue was about the target itself (not a field inside it). */
  atTarget: boolean;
}

/** Enough rounds for a problem to climb from a leaf to its item; each round removes something. */
const MAX_ROUNDS = 8;

/**
 * Parses `input` with `schema`; on failure removes each offending field (or, when a required
 * field is missing, the object or array element holding it) and tries again. Fails only when the
 * problem reaches the root. Warnings and errors name paths below `basePath`.
 */
export function parseLeniently<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  basePath: readonly PropertyKey[] = [],
): LenientResult<z.output<Schema>> {
  let current = input;
  let drops: Drop[] = [];
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const result = schema.safeParse(current);
    if (result.success) return { ok: true, value: result.data, warnings: drops.map((drop) => describeDrop(drop, basePath)) };

    const next: Drop[] = [];
    for (const issue of result.error.issues) {
      const path = [...issue.path];
      // A field dropped in an earlier round now reported missing: its holder goes, for the first reason.
      const earlier = drops.find((drop) => samePath(drop.target, path));
      const reason = earlier?.reason ?? `${formatIssuePath([...basePath, ...path])}: ${describeZodIssue(issue)}`;
      const target = dropTarget(issue, path, current);
      if (target.length === 0) return { ok: false, error: reason };
      next.push({ target, reason, atTarget: earlier === undefined && samePath(target, path) });
    }
    drops = [...drops.filter((drop) => !next.some((added) => isPrefix(added.target, drop.target))), ...dedupe(next)];
    const removed = removeAll(current, next.map((drop) => drop.target));
    if (removed === current) break;
    current = removed;
  }
  return { ok: false, error: `${formatIssuePath(basePath) || 'payload'}: could not be read` };
}

function describeDrop(drop: Drop, basePath: readonly PropertyKey[]): string {
  return drop.atTarget ? `${drop.reason}; ignored` : `${drop.reason}; ignored ${formatIssuePath([...basePath, ...drop.target])}`;
}

/** The field that holds the problem; its parent when the field itself is missing. */
function dropTarget(issue: z.core.$ZodIssue, path: PropertyKey[], root: unknown): PropertyKey[] {
  // A discriminator with an unknown value: the whole variant is unreadable, not just that field.
  if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator !== undefined) {
    return path.slice(0, -1);
  }
  return valueAt(root, path) === undefined ? path.slice(0, -1) : path;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

/** Removes several paths; later array indices first so earlier removals do not shift them. */
function removeAll(root: unknown, targets: PropertyKey[][]): unknown {
  const outermost = dedupe(targets.map((target) => ({ target, reason: '', atTarget: false })))
    .map((drop) => drop.target)
    .filter((target, _, all) => !all.some((other) => other !== target && isPrefix(other, target)));
  outermost.sort(comparePathsDescending);
  return outermost.reduce(removeAt, root);
}

/** Copy-on-write removal: the input is never mutated. */
function removeAt(node: unknown, path: readonly PropertyKey[]): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return node;
  if (Array.isArray(node)) {
    const index = Number(head);
    if (!(index in node)) return node;
    if (rest.length === 0) return node.filter((_, i) => i !== index);
    const copy = [...node];
    copy[index] = removeAt(node[index], rest);
    return copy;
  }
  if (typeof node === 'object' && node !== null) {
    const record = node as Record<PropertyKey, unknown>;
    if (!(head in record)) return node;
    if (rest.length === 0) {
      const { [head]: _removed, ...others } = record;
      return others;
    }
    return { ...record, [head]: removeAt(record[head], rest) };
  }
  return node;
}

function comparePathsDescending(a: readonly PropertyKey[], b: readonly PropertyKey[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const left = a[i];
    const right = b[i];
    if (left === right) continue;
    if (typeof left === 'number' && typeof right === 'number') return right - left;
    return String(right).localeCompare(String(left));
  }
  return b.length - a.length;
}

function dedupe(drops: Drop[]): Drop[] {
  return drops.filter((drop, index) => drops.findIndex((other) => samePath(other.target, drop.target)) === index);
}

function samePath(a: readonly PropertyKey[], b: readonly PropertyKey[]): boolean {
  return a.length === b.length && a.every((segment, i) => segment === b[i]);
}

function isPrefix(prefix: readonly PropertyKey[], path: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => segment === path[i]);
}
