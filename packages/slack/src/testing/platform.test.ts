/**
 * The Slack fake speaks Slack's protocol: stock Bolt apps (its own HTTPReceiver and Socket Mode)
 * and the stock WebClient (including its filesUploadV2 helper) work against it unmodified, and
 * its Web API refuses what Slack refuses.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { App, LogLevel, webApi } from '@slack/bolt';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackFake, type SlackFake } from './index.js';

let fake: SlackFake | undefined;
let app: App | undefined;

afterEach(async () => {
  await app?.stop();
  app = undefined;
  // Bolt's SocketModeReceiver.stop() does not wait for the close handshake; let it finish.
  for (let waited = 0; fake && fake.socket.connections() > 0 && waited < 2000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await fake?.close();
  fake = undefined;
});

const quiet = { logLevel: LogLevel.ERROR } as const;

describe('the Slack fake', () => {
  it('drives a stock Bolt app over HTTP: signed events Bolt accepts, url_verification, say() replies', async () => {
    fake = await startSlackFake({ mode: 'http' });
    app = new App({ token: fake.botToken, signingSecret: fake.signingSecret, clientOptions: { slackApiUrl: fake.apiUrl }, ...quiet });
    app.message(async ({ message, say }) => {
      if ('text' in message) await say(`echo: ${message.text}`);
    });
    const server = (await app.start(0)) as Server;
    fake.setRequestUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);
    expect(await fake.verifyRequestUrl()).toBe(true);

    const ada = fake.addUser({ name: 'ada' });
    const dm = fake.openDm(ada.id);
    const posted = await fake.post({ user: ada.id, channel: dm.id, text: 'ping' });
    expect(posted.deliveries).toMatchObject([{ acked: true }]);
    const reply = await fake.waitForSent((message) => message.text === 'echo: ping');
    expect(reply.channel).toBe(dm.id);
    // Bolt checked the signature for real: a forged request is refused.
    expect((await fake.postSigned({ body: '{"type":"event_callback"}', secret: 'wrong' })).status).toBe(401);
  });

  it('drives a stock Bolt app over Socket Mode: apps.connections.open, hello, envelopes and acks', async () => {
    fake = await startSlackFake({ mode: 'socket' });
    app = new App({ token: fake.botToken, appToken: fake.appToken, socketMode: true, clientOptions: { slackApiUrl: fake.apiUrl }, ...quiet });
    app.message(async ({ message, say }) => {
      if ('text' in message) await say(`echo: ${message.text}`);
    });
    await app.start();
    expect(fake.socket.connections()).toBe(1);

    const ada = fake.addUser({ name: 'ada' });
    const dm = fake.openDm(ada.id);
    const posted = await fake.post({ user: ada.id, channel: dm.id, text: 'ping' });
    expect(posted.deliveries).toMatchObject([{ acked: true, attempts: [{ retryNum: 0 }] }]);
    await fake.waitForSent((message) => message.text === 'echo: ping');
  });

  it("retries an event the app does not acknowledge three times, with Slack's retry headers", async () => {
    fake = await startSlackFake({ mode: 'http', retryDelaysMs: [5, 5, 5] });
    const seen: Array<string | undefined> = [];
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      seen.push(req.headers['x-slack-retry-num'] as string | undefined);
      req.resume();
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      fake.setRequestUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const delivery = await fake.sendEvent({ type: 'message', text: 'hi' });
      expect(delivery).toMatchObject({ acked: false, attempts: [{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }] });
      expect(seen).toEqual([undefined, '1', '2', '3']);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("takes the stock WebClient's filesUploadV2 (multipart) and serves files only with the bot token", async () => {
    fake = await startSlackFake();
    const client = new webApi.WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, ...quiet });
    const ada = fake.addUser({ name: 'ada' });
    const dm = fake.openDm(ada.id);
    const data = Buffer.from('quarterly numbers');
    await client.filesUploadV2({ channel_id: dm.id, file: data, filename: 'numbers.txt', initial_comment: 'here' });
    const [message] = fake.sent(dm.id);
    expect(message).toMatchObject({ text: 'here' });
    expect(message!.files[0]!.data.equals(data)).toBe(true);

    const url = message!.files[0]!.urlPrivateDownload;
    const withoutToken = await request(url);
    await withoutToken.body.dump();
    expect(withoutToken.statusCode).toBe(302);
    const withToken = await request(url, { headers: { authorization: `Bearer ${fake.botToken}` } });
    expect(Buffer.from(await withToken.body.arrayBuffer()).equals(data)).toBe(true);
  });

  it("refuses what Slack refuses, with Slack's error codes", async () => {
    fake = await startSlackFake();
    const client = new webApi.WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, ...quiet });
    const stranger = new webApi.WebClient('xoxb-wrong', { slackApiUrl: fake.apiUrl, ...quiet });
    const outside = fake.addChannel({ name: 'secret', botMember: false });
    const archived = fake.addChannel({ name: 'old' });
    fake.archive(archived.id);
    const codeOf = (promise: Promise<unknown>) =>
      promise.then(
        () => 'ok',
        (error: { data?: { error?: string }; code?: string }) => error.data?.error ?? error.code,
      );

    expect(await codeOf(stranger.auth.test())).toBe('invalid_auth');
    expect(await codeOf(client.chat.postMessage({ channel: 'C0NOPE', text: 'x' }))).toBe('channel_not_found');
    expect(await codeOf(client.chat.postMessage({ channel: outside.id, text: 'x' }))).toBe('not_in_channel');
    expect(await codeOf(client.chat.postMessage({ channel: archived.id, text: 'x' }))).toBe('is_archived');
    const ada = fake.addUser({ name: 'ada' });
    expect(await codeOf(client.chat.postMessage({ channel: ada.id, text: 'x'.repeat(40_001) }))).toBe('msg_too_long');
    expect(
      await codeOf(client.chat.postMessage({ channel: ada.id, text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'y'.repeat(3001) } }] })),
    ).toBe('invalid_blocks');
    fake.failNext({ method: 'chat.postMessage', status: 429, retryAfterSeconds: 7 });
    const limited = await client.chat.postMessage({ channel: ada.id, text: 'x' }).catch((error: { retryAfter?: number }) => error);
    expect(limited).toMatchObject({ retryAfter: 7 });
    expect(await codeOf(client.chat.postMessage({ channel: ada.id, text: 'finally' }))).toBe('ok');
  });
});
