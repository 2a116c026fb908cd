/**
 * Slack's `mrkdwn` both ways. Pure functions.
 *
 * Inbound, customer text carries Slack's control sequences (`<@U123>`, `<#C123|general>`,
 * `<!here>`, `<https://x|label>`) and HTML-escaped `& < >`; agents should read "@Ada Lovelace",
 * "#general" and "label (https://x)" instead.
 *
 * Outbound, agent text is escaped so that `<`, `>` and `&` show as typed and an agent cannot
 * ping `@channel` or forge a link by accident: https://docs.slack.dev/messaging/formatting-message-text#escaping
 */
import { splitText } from '@parley/core';

/** Slack's control sequences: `<…>` with no line break inside. */
const CONTROL = /<([^<>\n]+)>/g;

/** The users and channels a text refers to, so their names can be looked up before rendering. */
export function referencedIds(text: string): { users: string[]; channels: string[] } {
  const users = new Set<string>();
  const channels = new Set<string>();
  for (const [, inner] of text.matchAll(CONTROL)) {
    const [target = ''] = inner!.split('|', 1);
    if (/^@[UW][A-Z0-9]+$/.test(target)) users.add(target.slice(1));
    else if (/^#[CGD][A-Z0-9]+$/.test(target)) channels.add(target.slice(1));
  }
  return { users: [...users], channels: [...channels] };
}

export interface RenderNames {
  /** Display name of a user id, when known. */
  user(id: string): string | undefined;
  /** Name of a channel id, when known. */
  channel(id: string): string | undefined;
  /** The app's own user: a leading mention of it ("@app, my printer…") is dropped. */
  botUserId?: string;
}

/** Customer mrkdwn → the plain text an agent reads. */
export function toPlainText(text: string, names: RenderNames): string {
  let rest = text;
  if (names.botUserId) {
    // "<@UBOT> help" is how a channel message addresses the app; the agent only needs "help".
    rest = rest.replace(new RegExp(`^\\s*<@${names.botUserId}(\\|[^>]*)?>[\\s,:]*`), '');
  }
  const rendered = rest.replace(CONTROL, (whole, inner: string) => renderControl(inner, names) ?? whole);
  return decodeEntities(rendered).trim();
}

function renderControl(inner: string, names: RenderNames): string | undefined {
  const bar = inner.indexOf('|');
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? undefined : inner.slice(bar + 1);
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return `@${names.user(id) ?? label ?? id}`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return `#${names.channel(id) ?? label ?? id}`;
  }
  if (target.startsWith('!')) {
    const command = target.slice(1);
    if (command === 'here' || command === 'channel' || command === 'everyone') return `@${command}`;
    if (command.startsWith('subteam^')) return label ?? '@group';
    // `<!date^1392734382^{date}|Feb 18, 2014>`: the fallback text is what a reader sees.
    return label ?? '';
  }
  if (target.startsWith('mailto:')) return label ?? target.slice('mailto:'.length);
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    return label && label !== target ? `${label} (${target})` : target;
  }
  return undefined;
}

function decodeEntities(text: string): string {
  return text.replace(/&(lt|gt|amp);/g, (_, name: string) => (name === 'lt' ? '<' : name === 'gt' ? '>' : '&'));
}

/** Agent text → mrkdwn that shows exactly that text. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/[&<>]/g, (char) => (char === '&' ? '&amp;' : char === '<' ? '&lt;' : '&gt;'));
}

/**
 * Splits agent text into escaped mrkdwn parts of at most `maxLength` characters each, as Slack
 * counts them (after escaping). Parts are cut as core's `splitText` cuts.
 */
export function splitEscaped(text: string, maxLength: number): string[] {
  return splitText(text, maxLength).flatMap((part) => {
    let limit = maxLength;
    let pieces = [part];
    let worst = escapeMrkdwn(part).length;
    // Escaping lengthens `& < >` up to five-fold: cut the raw text shorter until every piece fits.
    while (worst > maxLength && limit > 2) {
      limit = Math.max(2, Math.min(limit - 1, Math.floor((limit * maxLength) / worst)));
      pieces = splitText(part, limit);
      worst = Math.max(...pieces.map((piece) => escapeMrkdwn(piece).length));
    }
    return pieces.map(escapeMrkdwn);
  });
}

