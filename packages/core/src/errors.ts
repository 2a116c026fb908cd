/**
 * One error family for all of Parley. Every error carries a stable SCREAMING_SNAKE `code`
 * so logs, metrics and tests can match on it rather than on message text.
 */
export type ParleyErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_ENV_MISSING'
  | 'CONFIG_FILE'
  | 'CONNECTOR_LOAD'
  | 'CONNECTOR_UNKNOWN'
  | 'SIGNATURE_INVALID'
  | 'PAYLOAD_INVALID'
  | 'GENESYS_AUTH'
  | 'GENESYS_RATE_LIMITED'
  | 'GENESYS_UNAVAILABLE'
  | 'GENESYS_REJECTED'
  | 'PLATFORM_RATE_LIMITED'
  | 'PLATFORM_UNAVAILABLE'
  | 'PLATFORM_REJECTED'
  | 'NOT_SUPPORTED'
  | 'MEDIA_INVALID'
  | 'STORE'
  | 'TIMEOUT'
  | 'SHUTDOWN';

/**
 * Genesys reason codes for a Failed receipt (`reasons[].code`), from the SDK enum
 * `ConversationReason.code`.
 */
export type GenesysReasonCode =
  | 'MessageExpired'
  | 'RateLimited'
  | 'MessageNotAllowed'
  | 'GeneralError'
  | 'UnsupportedMessage'
  | 'UnknownMessage'
  | 'InvalidMessageStructure'
  | 'InvalidDestination'
  | 'ServerError'
  | 'MediaTypeNotAllowed'
  | 'InvalidMediaContentLength'
  | 'RecipientOptedOut'
  | 'DataFiltered';

export interface ParleyErrorOptions {
  cause?: unknown;
  /** Extra structured context for logs; never secrets. */
  details?: Record<string, unknown>;
}

export class ParleyError extends Error {
  override readonly name: string = 'ParleyError';
  readonly code: ParleyErrorCode;
  readonly details: Record<string, unknown> | undefined;
  /** Whether trying the same operation again later may succeed. */
  readonly retryable: boolean = false;

  constructor(code: ParleyErrorCode, message: string, options: ParleyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

export interface RetryableErrorOptions extends ParleyErrorOptions {
  /** How long the remote side asked us to wait (Retry-After, retry_after), in milliseconds. */
  retryAfterMs?: number;
}

/** A failure that may pass on a later attempt: rate limits, outages, timeouts, network errors. */
export class RetryableError extends ParleyError {
  override readonly name: string = 'RetryableError';
  override readonly retryable = true;
  readonly retryAfterMs: number | undefined;

  constructor(code: ParleyErrorCode, message: string, options: RetryableErrorOptions = {}) {
    super(code, message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

export interface PermanentErrorOptions extends ParleyErrorOptions {
  /** Reason code for the Failed receipt sent to Genesys; defaults to GeneralError. */
  reasonCode?: GenesysReasonCode;
}

/**
 * A failure that no retry will fix: the customer blocked the bot, the chat does not exist, the
 * payload is invalid. The message is human-readable: it becomes the Failed receipt's text.
 */
export class PermanentError extends ParleyError {
  override readonly name: string = 'PermanentError';
  readonly reasonCode: GenesysReasonCode;

  constructor(code: ParleyErrorCode, message: string, options: PermanentErrorOptions = {}) {
    super(code, message, options);
    this.reasonCode = options.reasonCode ?? 'GeneralError';
  }
}

export interface ConfigIssue {
  /** Dotted key path, e.g. `connectors.support-telegram.options.token`. */
  path: string;
  message: string;
}

/** Invalid configuration: every issue names the exact key path and the reason. */
export class ConfigError extends ParleyError {
  override readonly name: string = 'ConfigError';
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], options: ParleyErrorOptions & { code?: ParleyErrorCode } = {}) {
    super(
      options.code ?? 'CONFIG_INVALID',
      issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('\n'),
      options,
    );
    this.issues = issues;
  }
}

/** Anything thrown that is not a ParleyError counts as retryable: an unknown failure may pass. */
export function isRetryable(error: unknown): boolean {
  return error instanceof ParleyError ? error.retryable : true;
}
