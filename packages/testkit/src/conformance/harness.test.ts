/**
 * The harness's start-up order: Parley's server listens before `setup()`, so a platform fake can
 * learn the webhook URL, and it answers 503 until Parley is attached to it.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { referenceConformanceSubject } from '../reference/index.js';
import { startHarness, type Harness } from './harness.js';
import type { ConformanceSetupContext, ConformanceSubject } from './types.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Status, `retry-after` and body of one request, on a connection of its own (none is reused after a close). */
async function probe(url: string, method: 'GET' | 'POST' = 'GET') {
  const response = await request(url, { method, reset: true, ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}) });
  return { status: response.statusCode, retryAfter: response.headers['retry-after'], body: await response.body.text() };
}

/** The reference subject, with a `setup` that first runs `before` with the context it got. */
function probingSubject(before: (context: ConformanceSetupContext) => Promise<void>): ConformanceSubject {
  const reference = referenceConformanceSubject();
  return {
    ...reference,
    async setup(context) {
      await before(context);
      return reference.setup(context);
    },
  };
}

describe('startHarness', () => {
  it('gives setup() the URLs of a server that already listens, answering 503 until Parley is attached', async () => {
    let seen: ConformanceSetupContext | undefined;
    let duringSetup: Awaited<ReturnType<typeof probe>> | undefined;
    harness = await startHarness(
      probingSubject(async (context) => {
        seen = context;
        duringSetup = await probe(context.webhookUrl, 'POST');
      }),
      { connectorId: 'probe' },
    );

    expect(seen).toEqual({ webhookUrl: `${harness.url}/connectors/probe/webhook`, publicUrl: harness.url, connectorId: 'probe' });
    expect(harness.webhookUrl).toBe(seen?.webhookUrl);
    expect(duringSetup).toMatchObject({ status: 503, retryAfter: '1' });

    // Parley now answers on that URL, for that connector (the reference connector polls).
    const afterStart = await probe(harness.webhookUrl, 'POST');
    expect(afterStart.status).toBe(404);
    expect(JSON.parse(afterStart.body).error).toMatch(/^Connector "probe" does not take platform webhooks/);
  });

  it('stops the server again when setup() fails', async () => {
    let publicUrl: string | undefined;
    const failing = probingSubject(async (context) => {
      publicUrl = context.publicUrl;
      throw new Error('the platform fake did not start');
    });

    await expect(startHarness(failing)).rejects.toThrow('the platform fake did not start');
    expect(publicUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(probe(`${publicUrl}/healthz`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('closes the server on close()', async () => {
    const started = await startHarness(referenceConformanceSubject());
    expect((await probe(`${started.url}/healthz`)).status).toBe(200);
    await started.close();
    await expect(probe(`${started.url}/healthz`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
