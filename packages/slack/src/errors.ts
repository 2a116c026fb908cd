/**
 * Slack failures → Parley's error family. This table decides what the agent sees: a
 * `RetryableError` makes core try again later (honouring `retryAfterMs`); a `PermanentError`
 * ends the delivery and its message, which names Slack's error code, becomes the text of the
 * Failed receipt in Genesys.
 *
 * Slack's Web API answers HTTP 200 with `{ ok: false, error: "<code>" }` for almost every
 * failure; only rate limits (429 + Retry-After) and outages (5xx) use HTTP statuses.
 * Codes: https://docs.slack.dev/reference/methods/chat.postMessage#errors
 */
import { webApi } from '@slack/bolt';
import { ParleyError, PermanentError, RetryableError, type GenesysReasonCode } from '@parley/core';

/** The Slack call that failed, for logs and for the wording of a few errors. */
export type SlackCall =
  | 'auth.test'
  | 'apps.connections.open'
  | 'chat.postMessage'
  | 'users.info'
  | 'conversations.info'
  | 'conversations.open'
  | 'files.getUploadURLExternal'
  | 'files.completeUploadExternal'
  | 'file upload'
  | 'file download';

interface Rule {
  reasonCode: GenesysReasonCode;
  message: string;
}

/** Errors that no retry fixes, with what the agent is told. */
const PERMANENT: Record<string, Rule> = {
  channel_not_found: {
    reasonCode: 'InvalidDestination',
    message: 'The Slack conversation does not exist or the app cannot see it',
  },
  not_in_channel: {
    reasonCode: 'InvalidDestination',
    message: 'The Slack app is not a member of the channel (invite it with /invite)',
  },
  is_archived: { reasonCode: 'InvalidDestination', message: 'The Slack channel is archived' },
  user_not_found: { reasonCode: 'InvalidDestination', message: 'The Slack user does not exist' },
  user_disabled: { reasonCode: 'InvalidDestination', message: 'The Slack user was deactivated' },
  cannot_dm_bot: { reasonCode: 'InvalidDestination', message: 'Slack does not let apps message a bot user' },
  invalid_auth: {
    reasonCode: 'GeneralError',
    message: 'Slack rejected the bot token (check the botToken option)',
  },
  not_authed: { reasonCode: 'GeneralError', message: 'Slack received no bot token (check the botToken option)' },
  account_inactive: {
    reasonCode: 'GeneralError',
    message: "The Slack app's token belongs to a deactivated user or workspace",
  },
  token_revoked: { reasonCode: 'GeneralError', message: 'The Slack bot token was revoked (reinstall the app)' },
  token_expired: { reasonCode: 'GeneralError', message: 'The Slack bot token expired' },
  no_permission: { reasonCode: 'GeneralError', message: 'The Slack app has no permission for this' },
  ekm_access_denied: { reasonCode: 'GeneralError', message: 'Slack EKM denied access to this conversation' },
  team_access_not_granted: { reasonCode: 'GeneralError', message: 'The Slack app is not installed in that workspace' },
  restricted_action: {
    reasonCode: 'MessageNotAllowed',
    message: 'A Slack workspace setting does not let the app post here',
  },
  msg_too_long: { reasonCode: 'InvalidMessageStructure', message: 'The message is too long for Slack' },
  no_text: { reasonCode: 'InvalidMessageStructure', message: 'Slack got a message without text' },
  invalid_blocks: { reasonCode: 'InvalidMessageStructure', message: 'Slack refused the buttons or cards of the message' },
  invalid_blocks_format: {
    reasonCode: 'InvalidMessageStructure',
    message: 'Slack refused the buttons or cards of the message',
  },
  invalid_arguments: { reasonCode: 'InvalidMessageStructure', message: 'Slack refused the message' },
  too_many_attachments: { reasonCode: 'InvalidMessageStructure', message: 'The message has too many parts for Slack' },
  file_uploads_disabled: {
    reasonCode: 'MediaTypeNotAllowed',
    message: 'File uploads are disabled in this Slack workspace',
  },
  file_upload_size_restricted: {
    reasonCode: 'InvalidMediaContentLength',
    message: 'The file is larger than this Slack workspace allows',
  },
  file_not_found: { reasonCode: 'GeneralError', message: 'Slack lost the uploaded file' },
};

/** Codes Slack documents as transient. */
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);
const RATE_LIMITED = new Set(['ratelimited', 'rate_limited']);

/** Maps an `ok: false` answer of a Web API method. */
export function slackPlatformError(call: SlackCall, code: string, extra: { needed?: string; retryAfterSeconds?: number } = {}): ParleyError {
  const details = { call, error: code };
  if (RATE_LIMITED.has(code)) return rateLimited(call, extra.retryAfterSeconds);
  if (TRANSIENT.has(code)) {
    return new RetryableError('PLATFORM_UNAVAILABLE', `Slack failed temporarily (${code})`, { details });
  }
  if (code === 'missing_scope') {
    const scope = extra.needed ? ` ${extra.needed}` : '';
    return new PermanentError('PLATFORM_REJECTED', `The Slack app lacks the OAuth scope${scope} (missing_scope)`, {
      details,
      reasonCode: 'GeneralError',
    });
  }
  const rule = PERMANENT[code];
  if (rule) {
    return new PermanentError('PLATFORM_REJECTED', `${rule.message} (${code})`, { details, reasonCode: rule.reasonCode });
  }
  return new PermanentError('PLATFORM_REJECTED', `Slack refused the request (${code})`, {
    details,
    reasonCode: 'GeneralError',
  });
}

/** Maps an HTTP error status (outside the `ok: false` convention). */
export function slackHttpError(call: SlackCall, status: number, retryAfterSeconds?: number): ParleyError {
  const details = { call, status };
  if (status === 429) return rateLimited(call, retryAfterSeconds);
  if (status >= 500 || status === 408) {
    return new RetryableError('PLATFORM_UNAVAILABLE', `Slack failed with HTTP ${status}`, { details });
  }
  return new PermanentError('PLATFORM_REJECTED', `Slack refused the request with HTTP ${status}`, {
    details,
    reasonCode: 'GeneralError',
  });
}

/** A request that got no answer (refused, reset, timed out): always worth another try. */
export function slackNetworkError(call: SlackCall, cause: unknown): RetryableError {
  return new RetryableError('PLATFORM_UNAVAILABLE', `Slack could not be reached: ${messageOf(cause)}`, {
    cause,
    details: { call },
  });
}

/**
 * Maps whatever the WebClient threw. Its errors carry a `code` (`slack_webapi_*`); anything else
 * is unknown and therefore retryable.
 */
export function slackError(call: SlackCall, error: unknown): ParleyError {
  if (error instanceof ParleyError) return error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  const { ErrorCode } = webApi;
  if (code === ErrorCode.PlatformError) {
    const data = (error as { data?: { error?: unknown; needed?: unknown; response_metadata?: { retryAfter?: unknown } } }).data;
    const retryAfter = data?.response_metadata?.retryAfter;
    return slackPlatformError(call, String(data?.error ?? 'unknown_error'), {
      ...(typeof data?.needed === 'string' ? { needed: data.needed } : {}),
      ...(typeof retryAfter === 'number' ? { retryAfterSeconds: retryAfter } : {}),
    });
  }
  if (code === ErrorCode.RateLimitedError) {
    return rateLimited(call, (error as { retryAfter?: number }).retryAfter);
  }
  if (code === ErrorCode.HTTPError) {
    const { statusCode, headers } = error as { statusCode: number; headers?: Record<string, string> };
    return slackHttpError(call, statusCode, Number(headers?.['retry-after']));
  }
  return slackNetworkError(call, code === ErrorCode.RequestError ? ((error as { original?: unknown }).original ?? error) : error);
}

function rateLimited(call: SlackCall, retryAfterSeconds: number | undefined): RetryableError {
  return new RetryableError('PLATFORM_RATE_LIMITED', 'Slack is rate limiting the app', {
    details: { call },
    ...(retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0
      ? { retryAfterMs: retryAfterSeconds * 1000 }
      : {}),
  });
}

function messageOf(cause: unknown): string {
  if (cause instanceof Error) {
    // fetch hides the reason (ECONNREFUSED…) in `cause`.
    const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : '';
    return `${cause.message}${inner}`;
  }
  return String(cause);
}
