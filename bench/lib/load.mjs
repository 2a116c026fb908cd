// The load generator: autocannon's programmatic API, where every request is a Genesys outbound
// webhook with a unique message id and a valid X-Hub-Signature-256, so dedupe never short-cuts
// the work (research/perf-reliability.md §4.1).
import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Size of every webhook body, as in the research measurements. */
export const BODY_BYTES = 1024;

/** Loads autocannon (root devDependency) and @parley/core's signer (built dist). */
export async function loadTools(root) {
  const autocannon = createRequire(path.join(root, 'package.json'))('autocannon');
  const core = await import(pathToFileURL(path.join(root, 'packages/core/dist/index.js')).href);
  return { autocannon, signGenesysBody: core.signGenesysBody };
}

/**
 * Builds signed 1,024-byte outbound webhooks shaped like the emulator's (Genesys's) normalized
 * message, spread round robin over `addresses` (one customer each, so per-conversation ordering
 * does not serialise the queue). Ids are 32 hex characters like Genesys's, unique per request.
 */
export function webhookFactory({ addresses, integrationId, secret, signGenesysBody }) {
  const ID = '#'.repeat(32);
  const time = new Date().toISOString();
  // Per customer: the body around the two copies of the id, with the text padded to BODY_BYTES.
  const templates = addresses.map((address) => {
    const build = (text) =>
      JSON.stringify({
        id: ID,
        channel: {
          id: integrationId,
          platform: 'Open',
          type: 'Private',
          messageId: ID,
          to: { id: address, idType: 'Opaque' },
          from: { nickname: 'Parley bench', id: integrationId, idType: 'Opaque' },
          time,
        },
        conversationId: randomUUID(),
        type: 'Text',
        text,
        direction: 'Outbound',
        originatingEntity: 'Human',
      });
    const padding = BODY_BYTES - Buffer.byteLength(build(''));
    if (padding < 1) throw new Error(`the customer address ${address} leaves no room for text in ${BODY_BYTES} bytes`);
    const parts = build(`Agent reply. ${'a'.repeat(padding)}`.slice(0, padding)).split(ID);
    if (parts.length !== 3) throw new Error('unexpected webhook template');
    return parts;
  });
  let sequence = 0;
  return function next() {
    sequence += 1;
    // Random, like Genesys's message ids (32 hex digits): sequential ids would land every dedupe
    // key and id link at the end of their indexes and flatter the store (measured 15–30 % less
    // host CPU per message than with random ids).
    const id = randomBytes(16).toString('hex');
    const [head, middle, tail] = templates[sequence % templates.length];
    const body = head + id + middle + id + tail;
    return { body, signature: signGenesysBody(body, secret) };
  };
}

/**
 * One autocannon run of `durationSec` against `url`: `connections` keep-alive connections, no
 * pipelining, a fixed offered rate when `ratePerSec` is set (autocannon overallRate).
 */
export function runLoad({ autocannon, url, nextWebhook, durationSec, connections, ratePerSec }) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: durationSec,
        ...(ratePerSec ? { overallRate: ratePerSec } : {}),
        requests: [
          {
            method: 'POST',
            setupRequest: (request) => {
              const { body, signature } = nextWebhook();
              return {
                ...request,
                body,
                headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
              };
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    // Without a listener autocannon prints nothing, which is what the bench wants.
    instance.on('error', () => {});
  });
}
