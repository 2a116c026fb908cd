/**
 * End to end, as a user runs it: the real `parley start` process from a config file, the Genesys
 * emulator and the reference chat platform, real HTTP and real signatures throughout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { signGenesysBody } from '@parley/core';
import { killHost, startHostProcess, waitForReady, type HostProcess } from './support/host-process.js';
import { agentWebhook, createWorld, eventually, hostEnv, INTEGRATION_ID, postWebhook, type World } from './support/fixtures.js';

let world: World | undefined;
let host: HostProcess | undefined;

afterEach(async () => {
  await killHost(host);
  host = undefined;
  await world?.close();
  world = undefined;
});

async function start(w: World) {
  return startHostProcess(w.configPath, { env: hostEnv(w) });
}

describe('parley start (end to end)', () => {
  it('relays a customer message to Genesys and the agent reply back, with a Delivered receipt', async () => {
    world = await createWorld();
    host = await start(world);

    await world.platform.customer('chat-1', { name: 'bob', firstName: 'Bob', lastName: 'Minion', language: 'en' }).sendText('Hello, I need help');
    const inbound = await world.emulator.waitForInbound((r) => r.kind === 'message' && r.body.text === 'Hello, I need help', 10_000);
    expect(inbound.body.channel.from).toMatchObject({ id: 'ref:chat-1', idType: 'Opaque', firstName: 'Bob', lastName: 'Minion' });
    expect(inbound.body.channel.messageId).toBeTruthy();
    expect(inbound.conversationId).toBeTruthy();

    const delivery = await world.emulator.agent.sendText(inbound.conversationId!, 'Hi Bob, how can I help?');
    expect((await delivery.done).delivered).toBe(true);
    await world.platform.waitForSent((message) => message.text === 'Hi Bob, how can I help?', 10_000);

    const receipt = await world.emulator.waitForInbound((r) => r.kind === 'receipt' && r.body.id === delivery.messageId, 10_000);
    expect(receipt.body).toMatchObject({ status: 'Delivered', channel: { to: { id: 'ref:chat-1' } } });
  });

  it('rejects bad webhooks before doing any work', async () => {
    world = await createWorld();
    host = await start(world);
    world.platform.customer('chat-2'); // the customer has talked to the bot before
    const body = agentWebhook('bad-0000000000000000000000000001', 'ref:chat-2', 'must never arrive');

    expect((await postWebhook(host.url, body, { signature: signGenesysBody(body, 'another-secret-0123456789') })).status).toBe(401);
    expect((await postWebhook(host.url, body, { signature: null })).status).toBe(401);
    expect((await postWebhook(host.url, body, { connector: 'nope' })).status).toBe(404);
    const huge = JSON.stringify({ padding: 'x'.repeat(70_000) });
    expect((await postWebhook(host.url, huge)).status).toBe(413);
    expect((await postWebhook(host.url, '{"id": "broken"')).status).toBe(400);

    // A good one afterwards is delivered: nothing above left state behind, and the bad ones never arrive.
    const good = agentWebhook('good-000000000000000000000000001', 'ref:chat-2', 'the real one');
    expect((await postWebhook(host.url, good)).status).toBe(200);
    await world.platform.waitForSent((message) => message.text === 'the real one', 10_000);
    expect(world.platform.sent().some((message) => message.text === 'must never arrive')).toBe(false);

    const metrics = await (await request(`${host.url}/metrics`)).body.text();
    expect(metrics).toMatch(/parley_genesys_webhooks_total\{[^}]*outcome="bad_signature"[^}]*\} 2/);
    // Every durable write went through a timed commit.
    expect(Number(/parley_store_commit_duration_seconds_count\{outcome="committed"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
  });

  it('delivers a webhook that Genesys sends twice only once', async () => {
    world = await createWorld();
    host = await start(world);
    world.platform.customer('chat-3');
    const body = agentWebhook('dup-0000000000000000000000000001', 'ref:chat-3', 'only once please');
    const [first, second] = [await postWebhook(host.url, body), await postWebhook(host.url, body)];
    expect(first.status).toBe(200);
    expect(second).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    await world.platform.waitForSent((message) => message.text === 'only once please', 10_000);
    // Give a wrongly-queued second copy every chance to show up before counting.
    const followUp = agentWebhook('dup-0000000000000000000000000002', 'ref:chat-3', 'after the duplicate');
    await postWebhook(host.url, followUp);
    await world.platform.waitForSent((message) => message.text === 'after the duplicate', 10_000);
    expect(world.platform.sent('chat-3').filter((message) => message.text === 'only once please')).toHaveLength(1);
  });

  it('answers 200 to a message the platform refuses, then sends Genesys a Failed receipt saying why', async () => {
    world = await createWorld();
    host = await start(world);
    world.platform.customer('chat-4');
    world.platform.failNext({ method: 'messages', status: 403 });
    const body = agentWebhook('blocked-00000000000000000000001', 'ref:chat-4', 'you blocked me');
    expect((await postWebhook(host.url, body)).status).toBe(200);
    const receipt = await world.emulator.waitForInbound((r) => r.kind === 'receipt' && r.body.id === 'blocked-00000000000000000000001', 10_000);
    expect(receipt.body.status).toBe('Failed');
    expect(receipt.body.reasons[0]).toMatchObject({ code: 'RecipientOptedOut' });
    expect(receipt.body.reasons[0].message).toMatch(/blocked/i);
  });

  it('hands a customer message to Genesys while the receipt for that customer waits out a Genesys outage', async () => {
    world = await createWorld();
    host = await start(world);
    const customer = world.platform.customer('chat-6');
    // The receipt endpoint fails for the whole test: the Delivered receipt keeps retrying.
    world.emulator.faults.inject({ endpoint: 'receipt', status: 503, times: 100_000 });
    expect((await postWebhook(host.url, agentWebhook('held-00000000000000000000000001', 'ref:chat-6', 'Your order shipped'))).status).toBe(200);
    await world.platform.waitForSent((message) => message.text === 'Your order shipped', 10_000);
    await eventually(() => world!.emulator.inbound({ kind: 'receipt', includeRejected: true }).some((record) => record.status === 503), 10_000, 'a failed receipt attempt');

    // Receipts have a lane of their own: the customer's reply is not held behind them.
    await customer.sendText('Thanks!');
    await world.emulator.waitForInbound((record) => record.kind === 'message' && record.body.text === 'Thanks!', 10_000);
    expect(world.emulator.inbound({ kind: 'receipt' }).filter((record) => record.status === 200)).toHaveLength(0);

    world.emulator.faults.clear();
    const receipt = await world.emulator.waitForInbound(
      (record) => record.kind === 'receipt' && record.body.id === 'held-00000000000000000000000001',
      10_000,
    );
    expect(receipt.body.status).toBe('Delivered');
  });

  it('sends no Delivered receipts with genesys.deliveredReceipts: false, and still the Failed ones', async () => {
    world = await createWorld({ genesysYaml: ['deliveredReceipts: false'] });
    host = await start(world);
    world.platform.customer('chat-7');
    expect((await postWebhook(host.url, agentWebhook('quiet-00000000000000000000000001', 'ref:chat-7', 'Delivered quietly'))).status).toBe(200);
    await world.platform.waitForSent((message) => message.text === 'Delivered quietly', 10_000);
    world.platform.failNext({ method: 'messages', status: 403 });
    expect((await postWebhook(host.url, agentWebhook('quiet-00000000000000000000000002', 'ref:chat-7', 'Refused'))).status).toBe(200);

    const failed = await world.emulator.waitForInbound((record) => record.kind === 'receipt' && record.body.id === 'quiet-00000000000000000000000002', 10_000);
    expect(failed.body.status).toBe('Failed');
    // One lane per customer, in order: a Delivered receipt for the first message would be here by now.
    expect(world.emulator.inbound({ kind: 'receipt', includeRejected: true }).map((record) => record.body?.id)).toEqual([
      'quiet-00000000000000000000000002',
    ]);
  });

  it('answers 200 to receipts, typing events and unknown types; typing reaches the customer and nothing is queued', async () => {
    world = await createWorld();
    host = await start(world);
    await world.platform.customer('chat-8').sendText('Is anyone there?');
    const inbound = await world.emulator.waitForInbound((r) => r.kind === 'message' && r.body.text === 'Is anyone there?', 10_000);

    // Genesys's own typing event, signed and sent by the emulator like any webhook.
    const typing = await world.emulator.agent.sendTyping(inbound.conversationId!, 3000);
    expect(await typing.done).toMatchObject({ delivered: true, status: 200 });
    await eventually(() => world!.platform.typingShown('chat-8') === 1, 10_000, 'the agent typing shown in chat-8');

    const channel = (to?: string) => ({
      id: INTEGRATION_ID,
      platform: 'Open',
      type: 'Private',
      ...(to ? { to: { id: to, idType: 'Opaque' } } : {}),
      time: new Date().toISOString(),
    });
    const others = [
      // The status of the customer's message.
      { id: inbound.messageId, channel: channel('ref:chat-8'), type: 'Receipt', status: 'Delivered', isFinalReceipt: true },
      // An event that names no customer: nobody to show it to.
      { id: 'evt-00000000000000000000000000001', channel: channel(), type: 'Event', events: [{ eventType: 'Typing' }] },
      // A type Parley does not know, addressed and without id.
      { channel: channel('ref:chat-8'), type: 'Reaction', direction: 'Outbound' },
    ];
    for (const body of others) expect((await postWebhook(host.url, JSON.stringify(body))).status).toBe(200);
    expect(world.platform.typingShown('chat-8')).toBe(1);

    const metrics = await (await request(`${host.url}/metrics`)).body.text();
    const webhooks = (type: string, outcome: string) =>
      Number(new RegExp(`parley_genesys_webhooks_total\\{(?=[^}]*type="${type}")(?=[^}]*outcome="${outcome}")[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    expect([webhooks('Event', 'handled'), webhooks('Receipt', 'recorded'), webhooks('Event', 'unroutable'), webhooks('Reaction', 'ignored')]).toEqual([1, 1, 1, 1]);
    // No job of any state in the queue to the platform: none of them was queued.
    const toPlatform = [...metrics.matchAll(/parley_queue_jobs\{(?=[^}]*queue="to-platform")[^}]*\} (\d+)/g)].map((match) => Number(match[1]));
    expect(toPlatform.length).toBeGreaterThan(0);
    expect(toPlatform.every((count) => count === 0)).toBe(true);
    // The log lines come through the process's stdout, maybe after the answers.
    await host.waitForLog((line) => line.msg === 'Ignored a Genesys event that names no customer (channel.to.id)', 5000);
    await host.waitForLog((line) => line.msg === 'Ignored a Genesys webhook of an unknown type' && line.type === 'Reaction', 5000);

    // The host is still well: the agent's next message arrives, and only it.
    await (await world.emulator.agent.sendText(inbound.conversationId!, 'Yes, I am here')).done;
    await world.platform.waitForSent((message) => message.text === 'Yes, I am here', 10_000);
    expect(world.platform.sent('chat-8').map((message) => message.text)).toEqual(['Yes, I am here']);
  });

  it('reports readiness per part and stops cleanly on SIGTERM', async () => {
    world = await createWorld();
    host = await start(world);
    const ready = await waitForReady(host.url);
    expect(ready).toMatchObject({ ready: true, store: { ready: true }, genesys: { ready: true }, connectors: { chat: { ready: true } } });
    expect((await request(`${host.url}/healthz`)).statusCode).toBe(200);

    host.child.kill('SIGTERM');
    const exit = await host.exited;
    expect(exit.code).toBe(0);
    expect(host.logs.some((line) => line.msg === 'Stopped')).toBe(true);
  });
});

describe('parley start: crash safety', () => {
  it('after kill -9 mid-burst and a restart, nothing accepted is lost and per-conversation order holds', async () => {
    // A slow platform (40 ms per send, 8 at a time): accepted work piles up in the queue.
    world = await createWorld({ queueYaml: '  backoffBaseMs: 20\n  backoffMaxMs: 200\n  concurrency: 8', platformLatencyMs: 40 });
    host = await start(world);
    const customers = ['c0', 'c1', 'c2', 'c3', 'c4'];
    for (const customer of customers) world.platform.customer(customer);
    const perCustomer = 40;

    // Agent side: signed webhooks, each conversation in order, the five conversations in parallel.
    const accepted = new Map<string, number[]>(customers.map((c) => [c, []]));
    const posting = Promise.all(
      customers.map(async (customer) => {
        for (let seq = 0; seq < perCustomer; seq++) {
          const id = `burst-${customer}-${String(seq).padStart(4, '0')}`;
          try {
            const answer = await postWebhook(host!.url, agentWebhook(id, `ref:${customer}`, `${customer}#${seq}`));
            if (answer.status === 200) accepted.get(customer)!.push(seq);
          } catch {
            return; // the host is gone: Genesys would retry these later
          }
        }
      }),
    );
    // Customer side: messages keep arriving on the platform while the host dies.
    const customerSends = (async () => {
      for (let seq = 0; seq < 30; seq++) {
        await world!.platform.customer('writer').sendText(`writer#${seq}`);
      }
    })();

    const acceptedSoFar = () => [...accepted.values()].reduce((sum, seqs) => sum + seqs.length, 0);
    // Mid-burst: deliveries under way and accepted work still waiting in the queue.
    await eventually(
      () => world!.platform.sent().length >= 40 && acceptedSoFar() >= world!.platform.sent().length + 25,
      20_000,
      '40 deliveries and a backlog of 25 before the crash',
    );
    host.child.kill('SIGKILL');
    await host.exited;
    const deliveredAtCrash = world.platform.sent().length;
    await posting;
    await customerSends;

    host = await start(world);
    const expectedTotal = acceptedSoFar();
    // The crash really happened mid-burst: accepted work was still waiting in the queue.
    expect(expectedTotal).toBeGreaterThan(deliveredAtCrash + 20);

    await eventually(
      () =>
        customers.every((customer) => {
          const seen = new Set(world!.platform.sent(customer).map((m) => m.text));
          return accepted.get(customer)!.every((seq) => seen.has(`${customer}#${seq}`));
        }),
      30_000,
      'every accepted agent message delivered after the restart',
    );
    let duplicates = 0;
    for (const customer of customers) {
      const delivered = world.platform.sent(customer).map((m) => Number(String(m.text).split('#')[1]));
      const collapsed = delivered.filter((seq, index) => index === 0 || seq !== delivered[index - 1]);
      duplicates += delivered.length - collapsed.length;
      // In order, each once, except a send the platform accepted just before the crash.
      expect(collapsed).toEqual([...collapsed].sort((a, b) => a - b));
      expect(new Set(collapsed).size).toBe(collapsed.length);
    }
    process.stderr.write(`crash test: accepted ${expectedTotal}, delivered at crash ${deliveredAtCrash}, duplicates ${duplicates}\n`);
    // At most one send per conversation can be in flight at the moment of the crash.
    expect(duplicates).toBeLessThanOrEqual(customers.length);

    // Customer side: all 30 reach Genesys, in order, once per platform message id.
    await eventually(
      () => new Set(world!.emulator.inbound({ kind: 'message' }).filter((r) => String(r.body.text).startsWith('writer#')).map((r) => r.body.text)).size === 30,
      30_000,
      'all customer messages at Genesys',
    );
    const firstSeen: number[] = [];
    for (const record of world.emulator.inbound({ kind: 'message' })) {
      const text = String(record.body.text);
      if (!text.startsWith('writer#')) continue;
      const seq = Number(text.split('#')[1]);
      if (!firstSeen.includes(seq)) firstSeen.push(seq);
    }
    expect(firstSeen).toEqual([...Array(30).keys()]);
  }, 90_000);
});

describe('parley start: bad configuration', () => {
  it('exits with code 2 and names the key and the missing variable', async () => {
    world = await createWorld();
    const { runCli } = await import('./support/host-process.js');
    const result = await runCli(['start', '--config', world.configPath], {
      env: { GENESYS_CLIENT_SECRET: 'x'.repeat(20) },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('connectors.chat.webhookSecret');
    expect(result.stderr).toContain('WEBHOOK_SECRET');
  });
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
    host = await start(world);
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
