/**
 * Fault injection: makes the next requests to an endpoint fail (or answer late) the way Genesys
 * does under load or during an outage, so clients' retry, backoff and timeout paths can be tested.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { errorAnswer, genesysError, type EmulatorAnswer } from './genesys-errors.js';
import type { FaultEndpoint, FaultSpec } from './types.js';

/** The shape {@link FaultPlan.inject} accepts (also the body of `POST /emulator/faults`). */
export const faultSpecSchema = z
  .object({
    endpoint: z.enum(['token', 'message', 'receipt', 'event', 'structured-response', 'any']),
    status: z.number().int().min(400).max(599).optional(),
    retryAfterSeconds: z.number().nonnegative().optional(),
    delayMs: z.number().int().nonnegative().optional(),
    times: z.number().int().positive().optional(),
  })
  .refine((fault) => fault.status !== undefined || fault.delayMs !== undefined, {
    message: 'a fault needs a status, a delayMs, or both',
  });

/** What happens to one request that a fault caught. */
export interface ActiveFault {
  status?: number;
  retryAfterSeconds?: number;
  delayMs?: number;
}

interface PendingFault extends ActiveFault {
  endpoint: FaultEndpoint;
  remaining: number;
}

/** The faults waiting to hit requests, consumed in the order they were injected. */
export class FaultPlan {
  #pending: PendingFault[] = [];

  /** Queues a fault; throws on an invalid spec (e.g. neither status nor delayMs). */
  inject(spec: FaultSpec): void {
    const parsed = faultSpecSchema.safeParse(spec);
    if (!parsed.success) throw new Error(`Invalid fault: ${z.prettifyError(parsed.error)}`);
    const { endpoint, times = 1, ...fault } = parsed.data;
    this.#pending.push({ endpoint, remaining: times, ...fault });
  }

  /** Consumes one use of the first fault that targets `endpoint`, if any. */
  take(endpoint: Exclude<FaultEndpoint, 'any'>): ActiveFault | undefined {
    const index = this.#pending.findIndex((f) => f.endpoint === endpoint || f.endpoint === 'any');
    const fault = this.#pending[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.#pending.splice(index, 1);
    const { endpoint: _endpoint, remaining: _remaining, ...active } = fault;
    return active;
  }

  clear(): void {
    this.#pending = [];
  }
}

/**
 * Waits out the fault's delay, then returns the error answer it stands for, or undefined when
 * it is a delay only and the request should proceed normally. Rejects if `signal` aborts.
 */
export async function applyFault(fault: ActiveFault, signal: AbortSignal): Promise<EmulatorAnswer | undefined> {
  if (fault.delayMs) await sleep(fault.delayMs, undefined, { signal });
  if (fault.status === undefined) return undefined;
  const headers =
    fault.retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(fault.retryAfterSeconds) };
  if (fault.status === 429 && fault.retryAfterSeconds !== undefined) {
    return {
      status: 429,
      body: genesysError(
        429,
        'too.many.requests.retry.after',
        `Rate limit exceeded the maximum. Retry the request in [${fault.retryAfterSeconds}] seconds`,
      ),
      ...(headers ? { headers } : {}),
    };
  }
  return errorAnswer(fault.status, undefined, headers);
}

