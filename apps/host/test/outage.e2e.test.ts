/**
 * A Genesys outage that outlasts the retry budget, end to end: the real `parley start` process,
 * the emulator answering 503 to every inbound message, customers writing meanwhile.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { killHost, startHostProcess, type HostProcess } from './support/host-process.js';
import { createWorld, eventually, hostEnv, type World } from './support/fixtures.js';

let world: World | undefined;
let host: HostProcess | undefined;

afterEach(async () => {
  await killHost(host);
  host = undefined;
  await world?.close();
  world = undefined;
});

async function metrics(hostUrl: string): Promise<string> {
  return (await request(`${hostUrl}/metrics`)).body.text();
}

function gauge(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && candidate.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('a Genesys outage (end to end)', () => {
  it('holds customer messages without dead-lettering them, reports it, and sends them all when Genesys is back', async () => {
    // Two attempts per job: without the hold, every message would be dead after the second 503.
    world = await createWorld({ queueYaml: '  maxAttempts: 2\n  backoffBaseMs: 50\n  backoffMaxMs: 300' });
    host = await startHostProcess(world.configPath, { env: hostEnv(world) });
    world.emulator.faults.inject({ endpoint: 'message', status: 503, times: 1_000_000 });

    const texts = ['where is my order?', 'hello?', 'anyone there?'];
    await Promise.all(texts.map((text, index) => world!.platform.customer(`out-${index}`).sendText(text)));
    // Every message is refused well past its budget of two attempts.
    await eventually(
      () => {
        const refused = world!.emulator.inbound({ kind: 'message', includeRejected: true }).filter((r) => r.status === 503);
        return texts.every((text) => refused.filter((r) => r.body.text === text).length >= 4);
      },
      15_000,
      'four refused attempts of every message',
    );
    const during = await metrics(host.url);
    expect(gauge(during, 'parley_queue_held', 'queue="to-genesys"')).toBe(1);
    expect(gauge(during, 'parley_queue_jobs', 'queue="to-genesys",state="dead"') ?? 0).toBe(0);
    expect(host.logs.some((line) => line.level === 50 && /keep failing/.test(String(line.msg)))).toBe(true);

    world.emulator.faults.clear();
    for (const text of texts) {
      await world.emulator.waitForInbound((r) => r.kind === 'message' && r.status === 200 && r.body.text === text, 15_000);
    }
    // The hold ends with the first success; the gauge follows at once.
    const after = await metrics(host.url);
    expect(gauge(after, 'parley_queue_held', 'queue="to-genesys"')).toBe(0);
    expect(gauge(after, 'parley_queue_jobs', 'queue="to-genesys",state="dead"') ?? 0).toBe(0);
    // Each once: a held message is not sent twice when the hold ends.
    for (const text of texts) {
      expect(world.emulator.inbound({ kind: 'message' }).filter((r) => r.body.text === text)).toHaveLength(1);
    }
  });
});
