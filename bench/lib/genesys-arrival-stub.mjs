// A minimal Genesys for the channel relay benches, in the bench's own process: a token for anyone,
// a 200 for every inbound call, and the arrival time of each generated customer message. The
// emulator (express, zod validation, every request recorded) would cost the shared CPU 1 several
// times as much per message, and the bench would measure it instead of the host.
import { createServer } from 'node:http';

/** The text of a generated customer message: its creation time and sequence number travel in it. */
export const inboundText = (createdAt, sequence) => `bench-in ${createdAt} ${sequence}`;
const INBOUND_PATTERN = /^bench-in (\d+) (\d+)$/;

/**
 * Starts the stub on 127.0.0.1. `arrivals` maps the sequence number of each generated message
 * that reached it to `[createdAt, receivedAt]` (the first copy only); clear it between measurements.
 */
export async function startGenesysArrivalStub() {
  const arrivals = new Map();
  let sequence = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (body) => {
        const text = JSON.stringify(body);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      };
      if (req.url === '/oauth/token') return reply({ access_token: `bench-${sequence}`, token_type: 'bearer', expires_in: 86_400 });
      let body = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        // not JSON: answered all the same
      }
      if (req.url.includes('/inbound/open/message')) {
        const match = INBOUND_PATTERN.exec(body.text ?? '');
        if (match && !arrivals.has(match[2])) arrivals.set(match[2], [Number(match[1]), Date.now()]);
      }
      reply({ id: body.id ?? `stub${++sequence}`, channel: body.channel, conversationId: 'bench-conversation' });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    arrivals,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}
