/**
 * The parley.yaml schema (DESIGN §6). Every field carries a description: they feed the
 * published JSON Schema, so editors can explain the file while it is written.
 */
import { z } from 'zod';

/** Connector ids appear in routes, metric labels and log fields: keep them URL- and label-safe. */
export const CONNECTOR_ID_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/**
 * `${PORT}` interpolates to the string "8080": accept a string of digits where an integer is
 * expected, so numbers can come from the environment like everything else.
 */
function integer(options: { min: number; max?: number; default: number }) {
  const schema = z.number().int().min(options.min);
  const bounded = options.max === undefined ? schema : schema.max(options.max);
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value),
    bounded.default(options.default),
  );
}

const httpUrl = () => z.url({ protocol: /^https?$/, error: 'Expected an http:// or https:// URL' });

const serverSchema = z
  .strictObject({
    port: integer({ min: 0, max: 65_535, default: 8080 }).describe('TCP port the HTTP server listens on (0: any free port).'),
    host: z.string().min(1).default('0.0.0.0').describe('Interface the HTTP server binds to.'),
    publicUrl: httpUrl()
      .optional()
      .describe(
        'Public base URL of this server, as Genesys and the platforms reach it (webhook and media URLs). Default: http://localhost:<port>.',
      ),
    bodyLimitBytes: integer({ min: 1, default: 1_048_576 }).describe(
      'Largest accepted request body, in bytes; larger requests get 413.',
    ),
    mediaSecret: z
      .string()
      .min(16)
      .optional()
      .describe('Key that signs media URLs (at least 16 characters). Default: one generated once and kept in the store.'),
    mediaTtlSeconds: integer({ min: 1, default: 3600 }).describe('How long a signed media URL stays valid, in seconds.'),
    shutdownGraceMs: integer({ min: 0, default: 10_000 }).describe(
      'How long shutdown waits for in-flight work before stopping, in milliseconds.',
    ),
  })
  .describe('The HTTP server: Genesys webhooks, platform webhooks, media, health and metrics.');

const storeSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, {
        error: 'Expected a URL starting with "sqlite:", "postgres://" or "postgresql://"',
      })
      .default('sqlite:./data/parley.db')
      .describe('Where state and queues live: sqlite:<file path>, or postgres://user:password@host/db to scale out.'),
  })
  .describe('Durable store for queues, message id maps and connector state.');

const genesysSchema = z
  .strictObject({
    region: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, { error: 'Expected a region domain such as mypurecloud.com or a region key such as us_east_1 (no scheme, no path)' })
      .optional()
      .describe('Genesys Cloud region, by domain (mypurecloud.com, mypurecloud.ie…) or key (us_east_1, eu_west_1…): derives the API and login URLs.'),
    apiUrl: httpUrl().optional().describe('API base URL; overrides the one derived from region (emulator, FedRAMP, proxy).'),
    loginUrl: httpUrl().optional().describe('Login (OAuth) base URL; required together with apiUrl.'),
    clientId: z
      .string()
      .min(1)
      .optional()
      .describe('OAuth client id (client credentials grant). Without it Parley starts its built-in Genesys emulator.'),
    clientSecret: z.string().min(1).optional().describe('OAuth client secret; required with clientId.'),
    requestsPerMinute: integer({ min: 1, default: 300 }).describe(
      'Budget of Genesys API requests per minute for this OAuth client.',
    ),
    timeoutMs: integer({ min: 1, default: 10_000 }).describe('Timeout of one Genesys API request, in milliseconds.'),
    deliveredReceipts: z
      .boolean()
      .default(true)
      .describe(
        'Send Genesys a Delivered receipt for every agent message the platform accepted (the agent sees "delivered"). Each is one API request of requestsPerMinute: above ~5 messages/s at the default budget they queue up; false saves the budget for customer messages. Failed receipts are always sent.',
      ),
  })
  .describe('Genesys Cloud Open Messaging credentials. Leave out clientId to run against the built-in emulator.');

const connectorIdSchema = z.string().regex(CONNECTOR_ID_PATTERN, {
  error: (issue) =>
    `Invalid connector id "${String(issue.input)}": use lowercase letters, digits and "-", starting with a letter or digit`,
});

const connectorSchema = z
  .strictObject({
    use: z
      .string()
      .regex(/^[^#\s]+(#[A-Za-z_$][\w$]*)?$/, { error: 'Expected a package name, optionally followed by #exportName' })
      .describe('Package that exports the connector, e.g. "@parley/connector-telegram", optionally "#exportName".'),
    integrationId: z
      .string()
      .min(1)
      .optional()
      .describe("Id of this connector's Open Messaging integration in Genesys; required with Genesys credentials."),
    webhookSecret: z
      .string()
      .min(16)
      .optional()
      .describe(
        "The integration's outbound webhook signature secret (at least 16 characters); required with Genesys credentials.",
      ),
    options: z.unknown().default({}).describe('Connector-specific options, validated by the connector itself.'),
  })
  .describe('One connector instance.');

const connectorsSchema = z
  .record(connectorIdSchema, connectorSchema)
  .refine((connectors) => Object.keys(connectors).length > 0, { error: 'At least one connector is required' })
  .meta({ minProperties: 1 })
  .describe('Connector instances keyed by id; the id appears in routes (/connectors/<id>/...), metrics and logs.');

const logSchema = z
  .strictObject({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Lowest level that is logged.'),
    format: z.enum(['json', 'pretty']).default('json').describe('json: one JSON object per line; pretty: for humans.'),
  })
  .describe('Logging.');

const queueSchema = z
  .strictObject({
    concurrency: integer({ min: 1, default: 32 }).describe('Jobs processed at once per queue (order is kept per conversation).'),
    maxAttempts: integer({ min: 1, default: 8 }).describe('Attempts before a job moves to the dead-letter state.'),
    backoffBaseMs: integer({ min: 1, default: 500 }).describe('Smallest retry delay, in milliseconds; the delay grows exponentially (with jitter) per attempt.'),
    backoffMaxMs: integer({ min: 1, default: 300_000 }).describe('Largest retry delay, in milliseconds.'),
    outageHoldMs: integer({ min: 0, default: 3_600_000 }).describe(
      "While different jobs of a connector keep failing (its platform or Genesys is down), their failures count no attempt for jobs queued less than this many milliseconds, so an outage does not dead-letter what was queued during it; the jobs are retried until one succeeds. 0 turns this off.",
    ),
  })
  .describe('Durable queues between the platforms and Genesys.');

/** The whole parley.yaml. Sections left out get their defaults; unknown keys are errors. */
export const parleyConfigSchema = z
  .strictObject({
    server: serverSchema.prefault({}),
    store: storeSchema.prefault({}),
    genesys: genesysSchema.prefault({}),
    connectors: connectorsSchema,
    log: logSchema.prefault({}),
    queue: queueSchema.prefault({}),
  })
  // Runs even when other keys are invalid, so one start-up reports every problem at once.
  .superRefine(checkCrossFieldRules, { when: () => true })
  .describe('Parley configuration (parley.yaml).');

/** A validated parley.yaml with every default applied. */
export type ParleyConfig = z.output<typeof parleyConfigSchema>;

/**
 * Rules that span fields. The value may be partly invalid here (see `when` above), so it is read
 * as `unknown`.
 */
function checkCrossFieldRules(config: unknown, ctx: z.RefinementCtx): void {
  const genesys = field(config, 'genesys');
  const has = (key: string) => field(genesys, key) !== undefined;
  const report = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });

  if (has('clientId')) {
    if (!has('clientSecret')) report(['genesys', 'clientSecret'], 'Required when clientId is set');
    if (!has('region') && !has('apiUrl')) {
      report(['genesys', 'region'], 'Set region (e.g. mypurecloud.com) or apiUrl when clientId is set');
    }
    if (has('apiUrl') && !has('loginUrl')) report(['genesys', 'loginUrl'], 'Required when apiUrl is set');

    const connectors = field(config, 'connectors');
    if (isRecord(connectors)) {
      for (const [id, connector] of Object.entries(connectors)) {
        if (!CONNECTOR_ID_PATTERN.test(id)) continue; // already reported as an invalid id
        for (const key of ['integrationId', 'webhookSecret']) {
          if (field(connector, key) === undefined) {
            report(['connectors', id, key], 'Required when Genesys credentials are configured (genesys.clientId)');
          }
        }
      }
    }
  } else if (has('clientSecret')) {
    // Half-configured credentials would otherwise fall back to the emulator without a word.
    report(['genesys', 'clientId'], 'Required when clientSecret is set');
  }

  const queue = field(config, 'queue');
  const base = field(queue, 'backoffBaseMs');
  const max = field(queue, 'backoffMaxMs');
  if (typeof base === 'number' && typeof max === 'number' && max < base) {
    report(['queue', 'backoffMaxMs'], `Must be at least backoffBaseMs (${base})`);
  }
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
