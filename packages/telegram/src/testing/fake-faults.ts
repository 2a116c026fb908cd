/**
 * Scripted failures of the fake Bot API, in the shapes Telegram uses (`ok: false`, `error_code`,
 * `description`, `parameters.retry_after`), so a connector's error mapping is exercised against
 * real HTTP answers.
 */

/**
 * Which calls a fault hits: a Bot API method (`sendMessage`, `getUpdates`, `getFile`, …), `send`
 * for every method that sends a message (text or file), `file` for downloads from
 * `/file/bot<token>/<path>`, or `*` for everything.
 */
export type FaultTarget = string;

/** A scripted failure of the fake Bot API; `times` (default 1) is how many calls it hits. */
export type TelegramFault =
  /** Flood control: 429 with `parameters.retry_after` (default 1 s). */
  | { method: FaultTarget; status: 429; retryAfterSeconds?: number; times?: number }
  /**
   * An error answer. Default descriptions: 400 "Bad Request: chat not found", 403 "Forbidden:
   * bot was blocked by the user", 409 a getUpdates conflict, 5xx "Internal Server Error"/"Bad Gateway".
   */
  | { method: FaultTarget; status: 400 | 401 | 403 | 404 | 409 | 413 | 500 | 502 | 503; description?: string; times?: number }
  /** A slow answer: waits `delayMs`, then answers normally. */
  | { method: FaultTarget; delayMs: number; times?: number }
  /** No answer at all: the connection is dropped. */
  | { method: FaultTarget; disconnect: true; times?: number };

/** What the fake does for one call that a fault hits. */
export type FaultAction =
  | { kind: 'error'; status: number; body: TelegramErrorBody }
  | { kind: 'delay'; delayMs: number }
  | { kind: 'disconnect' };

/** Telegram's error answer. */
export interface TelegramErrorBody {
  ok: false;
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

const SEND_METHODS = new Set(
  ['sendMessage', 'sendPhoto', 'sendDocument', 'sendVideo', 'sendAudio', 'sendVoice', 'sendAnimation'].map((name) =>
    name.toLowerCase(),
  ),
);

/** The faults planned, used up call by call in the order they were added. */
export class FaultPlan {
  #queued: Array<{ fault: TelegramFault; remaining: number }> = [];

  add(fault: TelegramFault): void {
    const remaining = fault.times ?? 1;
    if (!Number.isInteger(remaining) || remaining < 1) throw new Error('times must be a positive integer');
    this.#queued.push({ fault, remaining });
  }

  /** The fault the next call of `method` meets, if one is planned (and counts it as used). */
  next(method: string): FaultAction | undefined {
    const index = this.#queued.findIndex(({ fault }) => matches(fault.method, method));
    const entry = this.#queued[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.#queued.splice(index, 1);
    return actionOf(entry.fault);
  }

  clear(): void {
    this.#queued = [];
  }
}

function matches(target: FaultTarget, method: string): boolean {
  const wanted = target.toLowerCase();
  const actual = method.toLowerCase();
  return wanted === '*' || wanted === actual || (wanted === 'send' && SEND_METHODS.has(actual));
}

function actionOf(fault: TelegramFault): FaultAction {
  if ('delayMs' in fault) return { kind: 'delay', delayMs: fault.delayMs };
  if ('disconnect' in fault) return { kind: 'disconnect' };
  if (fault.status === 429) {
    const retryAfter = fault.retryAfterSeconds ?? 1;
    return {
      kind: 'error',
      status: 429,
      body: { ok: false, error_code: 429, description: `Too Many Requests: retry after ${retryAfter}`, parameters: { retry_after: retryAfter } },
    };
  }
  return { kind: 'error', status: fault.status, body: errorBody(fault.status, fault.description) };
}

/** Telegram's answer for an error status, with its usual description. */
export function errorBody(status: number, description?: string): TelegramErrorBody {
  return { ok: false, error_code: status, description: description ?? DEFAULT_DESCRIPTIONS[status] ?? `Error ${status}` };
}

const DEFAULT_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad Request: chat not found',
  401: 'Unauthorized',
  403: 'Forbidden: bot was blocked by the user',
  404: 'Not Found',
  409: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  413: 'Request Entity Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};
