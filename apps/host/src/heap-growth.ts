/**
 * How far V8 lets the old generation grow past what survived the last full collection before it
 * collects again. V8 picks a factor of up to 4× on its own, which suits batch jobs; the host is a
 * long-running relay whose old generation fills with middle-aged garbage (messages that lived
 * through a few young collections while they waited for a commit or a platform). With V8's own
 * factor the relay at 2,000 msg/s held ~90 MB of old generation for ~25 MB alive and peaked at
 * 186–215 MB RSS; at 2× it peaked at 159–163 MB, with CPU per message unchanged within the
 * bench's noise (bench/README.md). Full collections run about twice as often, mostly
 * concurrently.
 */
import v8 from 'node:v8';

/** The growth allowed after a full collection, in percent over what survived (factor 1 + n/100). */
export const HOST_HEAP_GROWING_PERCENT = 100;

const FLAG = '--heap-growing-percent';

/**
 * Applies `HOST_HEAP_GROWING_PERCENT` unless the operator chose a value (`node
 * --heap-growing-percent=N`): V8 reads the flag at each full collection, so setting it at start
 * takes effect. Returns the percent in force, or undefined when the operator's flag stands.
 */
export function tuneHeapGrowth(execArgv: readonly string[] = process.execArgv): number | undefined {
  // V8 accepts its flags with dashes or underscores.
  const chosen = execArgv.map((arg) => arg.replaceAll('_', '-')).some((arg) => arg === FLAG || arg.startsWith(`${FLAG}=`));
  if (chosen) return undefined;
  v8.setFlagsFromString(`${FLAG}=${HOST_HEAP_GROWING_PERCENT}`);
  return HOST_HEAP_GROWING_PERCENT;
}
