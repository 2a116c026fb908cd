/**
 * The Slack connector end to end, as a user runs it: the real `parley start` process loading
 * `@parley/connector-slack` from a config file, the Genesys emulator and the Slack fake, in http
 * mode (signed Events API and interactivity at /connectors/help-desk/webhook) and in Socket Mode.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { customerIdOf } from '@parley/connector-slack';
import { killHost, startHostProcess, type HostProcess } from './support/host-process.js';
import { agentWebhook, postWebhook, startFileHost } from './support/fixtures.js';
import { createSlackWorld, SLACK_CONNECTOR_ID, type SlackWorld } from './support/slack.js';

let world: SlackWorld | undefined;
let host: HostProcess | undefined;

afterEach(async () => {
  await killHost(host);
  host = undefined;
  await world?.close();
  world = undefined;
});

async function start(mode: 'http' | 'socket') {
  world = await createSlackWorld({ mode });
  host = await startHostProcess(world.configPath, { env: world.env });
  return { w: world, h: host };
}

function customer(w: SlackWorld, name: string) {
  const user = w.slack.addUser({ name, firstName: name[0]!.toUpperCase() + name.slice(1), lastName: 'Example' });
  const dm = w.slack.openDm(user.id);
  return { user, dm, customerId: customerIdOf({ team: w.slack.team.id, channel: dm.id }) };
}

const inboundText = (w: SlackWorld, text: string) =>
  w.emulator.waitForInbound((record) => record.kind === 'message' && record.body.text === text, 10_000);

function expectNoSecretIn(h: HostProcess, w: SlackWorld) {
  const output = JSON.stringify(h.logs) + h.stderr();
  for (const secret of [w.slack.botToken, w.slack.signingSecret, w.slack.appToken]) expect(output).not.toContain(secret);
}

describe('parley start with @parley/connector-slack', () => {
  it('http mode: verifies the Request URL, relays a DM both ways with a Delivered receipt, and refuses unsigned events', async () => {
    const { w, h } = await start('http');
    expect(await w.slack.verifyRequestUrl()).toBe(true);
    const { user, dm, customerId } = customer(w, 'ada');

    // Not Slack's: wrong secret, stale, unsigned. 401 each, nothing queued.
    const forged = JSON.stringify({
      type: 'event_callback',
      team_id: w.slack.team.id,
      event_id: 'EvForged',
      event: { type: 'message', channel: dm.id, channel_type: 'im', user: user.id, text: 'forged', ts: '1700000000.000001' },
    });
    const statuses = await Promise.all([
      w.slack.postSigned({ body: forged, secret: 'guessed-secret' }),
      w.slack.postSigned({ body: forged, timestamp: Math.floor(Date.now() / 1000) - 3600 }),
      w.slack.postSigned({ body: forged, signature: null }),
    ]);
    expect(statuses.map((answer) => answer.status)).toEqual([401, 401, 401]);

    await w.slack.post({ user: user.id, channel: dm.id, text: 'Hello, my VPN is down' });
    const inbound = await inboundText(w, 'Hello, my VPN is down');
    expect(inbound.body.channel.from).toMatchObject({ id: customerId, nickname: 'ada', firstName: 'Ada', lastName: 'Example' });

    const delivery = await w.emulator.agent.sendText(inbound.conversationId!, 'Try reconnecting <now> & tell me');
    const reply = await w.slack.waitForSent((message) => message.channel === dm.id, 10_000);
    expect(reply.text).toBe('Try reconnecting &lt;now&gt; &amp; tell me');
    const receipt = await w.emulator.waitForInbound((record) => record.kind === 'receipt' && record.body.id === delivery.messageId, 10_000);
    expect(receipt.body.status).toBe('Delivered');

    const metrics = await (await request(`${h.url}/metrics`)).body.text();
    expect(metrics).toMatch(/parley_inbound_events_total\{[^}]*kind="message"[^}]*outcome="queued"[^}]*\} 1\n/);
    expect(w.emulator.inbound({ kind: 'message' }).map((record) => record.body.text)).toEqual(['Hello, my VPN is down']);
    expectNoSecretIn(h, w);
  });

  it('http mode: a mention starts a thread conversation; quick replies, a press and a file come and go in that thread', async () => {
    const { w } = await start('http');
    const grace = w.slack.addUser({ name: 'grace' });
    const channel = w.slack.addChannel({ name: 'it-help', members: [grace.id] });
    const top = await w.slack.post({ user: grace.id, channel: channel.id, text: `<@${w.slack.bot.userId}> badge reader broken` });
    const customerId = customerIdOf({ team: w.slack.team.id, channel: channel.id, threadTs: top.ts });
    const inbound = await inboundText(w, 'badge reader broken');
    expect(inbound.body.channel.from.id).toBe(customerId);

    const question = await w.emulator.agent.send(inbound.conversationId!, {
      type: 'Structured',
      text: 'Which door?',
      content: [
        { contentType: 'QuickReply', quickReply: { text: 'Main entrance', payload: 'door-main', action: 'Message' } },
        { contentType: 'QuickReply', quickReply: { text: 'Garage', payload: 'door-garage', action: 'Message' } },
      ],
      originatingEntity: 'Bot',
    });
    const buttons = await w.slack.waitForSent((message) => message.blocks !== undefined, 10_000);
    expect(buttons.threadTs).toBe(top.ts);
    await w.slack.pressButton({ user: grace.id, channel: channel.id, messageTs: buttons.ts, value: 'door-garage' });
    const press = await w.emulator.waitForInbound((record) => record.kind === 'structured-response', 10_000);
    expect(press.body).toMatchObject({
      channel: { from: { id: customerId } },
      originatingMessageId: question.messageId,
      buttonResponse: { type: 'QuickReply', text: 'Garage', payload: 'door-garage' },
    });

    // Genesys serves agent files from its download host; the emulator's test file host stands in.
    const data = randomBytes(3000);
    const files = await startFileHost();
    try {
      const fileUrl = files.add(data, 'image/png');
      await w.emulator.agent.send(inbound.conversationId!, {
        content: [{ contentType: 'Attachment', attachment: { mediaType: 'Image', url: fileUrl, mime: 'image/png', filename: 'garage-map.png' } }],
      });
      const upload = await w.slack.waitForSent((message) => message.files.length > 0, 10_000);
      expect(upload.threadTs).toBe(top.ts);
      expect(upload.files[0]!.data.equals(data)).toBe(true);
    } finally {
      await files.close();
    }
  });

  it('http mode: a message Slack refuses reaches the agent as a Failed receipt with Slack\'s reason', async () => {
    const { w, h } = await start('http');
    const { customerId } = customer(w, 'ada');
    w.slack.failNext({ method: 'chat.postMessage', error: 'not_in_channel' });
    const id = 'slack-failed-000000000000000000001';
    const body = agentWebhook(id, customerId, 'cannot be posted');
    expect((await postWebhook(h.url, body, { connector: SLACK_CONNECTOR_ID })).status).toBe(200);
    const receipt = await w.emulator.waitForInbound((record) => record.kind === 'receipt' && record.body.id === id, 10_000);
    expect(receipt.body).toMatchObject({
      status: 'Failed',
      reasons: [{ code: 'InvalidDestination', message: 'The Slack app is not a member of the channel (invite it with /invite) (not_in_channel)' }],
    });
  });

  it('socket mode: relays both ways over Socket Mode, reports ready, and closes the socket on SIGTERM', async () => {
    const { w, h } = await start('socket');
    expect(w.slack.socket.connections()).toBe(1);
    const readiness = await request(`${h.url}/readyz`);
    const ready = (await readiness.body.json()) as { connectors: Record<string, { ready: boolean }> };
    expect(ready.connectors[SLACK_CONNECTOR_ID]).toEqual({ ready: true });
    // The HTTP route exists but says why it takes nothing in socket mode.
    const webhook = await request(`${h.url}/connectors/${SLACK_CONNECTOR_ID}/webhook`, { method: 'POST', body: '{}' });
    await webhook.body.dump();
    expect(webhook.statusCode).toBe(404);

    const { user, dm, customerId } = customer(w, 'linus');
    await w.slack.post({ user: user.id, channel: dm.id, text: 'over the socket' });
    const inbound = await inboundText(w, 'over the socket');
    expect(inbound.body.channel.from.id).toBe(customerId);
    await w.emulator.agent.sendText(inbound.conversationId!, 'and back');
    await w.slack.waitForSent((message) => message.text === 'and back', 10_000);

    h.child.kill('SIGTERM');
    expect((await h.exited).code).toBe(0);
    expect(w.slack.socket.connections()).toBe(0);
    expectNoSecretIn(h, w);
  });
});
