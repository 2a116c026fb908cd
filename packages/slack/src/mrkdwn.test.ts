import { describe, expect, it } from 'vitest';
import { splitText } from '@parley/core';
import { escapeMrkdwn, referencedIds, splitEscaped, toPlainText } from './mrkdwn.js';

const names = {
  user: (id: string) => ({ U1: 'Ada Lovelace', UBOT: 'parley' })[id],
  channel: (id: string) => ({ C1: 'general' })[id],
  botUserId: 'UBOT',
};

describe('mrkdwn → text for the agent', () => {
  it('renders mentions, channels, specials and links readably and decodes entities', () => {
    expect(
      toPlainText(
        'hi <@U1>, see <#C1> and <#C2|random>, <!here> <!subteam^S1|@oncall> <!date^1392734382^{date}|Feb 18> ' +
          '<https://x.example/a?b=1&amp;c=2|the doc> <https://y.example> <mailto:a@b.example|a@b.example> 1 &lt; 2 &amp;&amp; 3 &gt; 2',
        names,
      ),
    ).toBe(
      'hi @Ada Lovelace, see #general and #random, @here @oncall Feb 18 the doc (https://x.example/a?b=1&c=2) https://y.example a@b.example 1 < 2 && 3 > 2',
    );
  });

  it('drops a leading mention of the app but keeps one mid-sentence, and falls back to ids', () => {
    expect(toPlainText('<@UBOT>: my VPN is down', names)).toBe('my VPN is down');
    expect(toPlainText('thanks <@UBOT> and <@U9>', names)).toBe('thanks @parley and @U9');
    expect(toPlainText('<@U9|grace> was here', names)).toBe('@grace was here');
  });

  it('lists the users and channels a text refers to, once each', () => {
    expect(referencedIds('<@U1> <@U1|x> <@W2> <#C1|a> <#G2> <https://e.example|@U3>')).toEqual({ users: ['U1', 'W2'], channels: ['C1', 'G2'] });
  });
});

describe('agent text → mrkdwn', () => {
  it('escapes the three control characters only', () => {
    expect(escapeMrkdwn('a < b & c > d *bold* <!channel>')).toBe('a &lt; b &amp; c &gt; d *bold* &lt;!channel&gt;');
  });

  it('splits at line breaks or spaces, never inside an emoji, and keeps every character', () => {
    const text = `${'a'.repeat(6)} ${'b'.repeat(6)}\n${'c'.repeat(3)}`;
    expect(splitText(text, 8)).toEqual(['aaaaaa', 'bbbbbb', 'ccc']);
    const emoji = '😀'.repeat(5);
    const parts = splitText(emoji, 5);
    expect(parts.join('')).toBe(emoji);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(5);
    expect(parts.every((part) => !/[\uD800-\uDBFF]$/.test(part))).toBe(true);
  });

  it('keeps escaped parts within the limit even when escaping lengthens them', () => {
    const parts = splitEscaped('&'.repeat(30), 20);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(20);
    expect(parts.join('')).toBe('&amp;'.repeat(30));
  });
});
