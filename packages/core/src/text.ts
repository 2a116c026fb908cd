/**
 * Text helpers every connector needs: platforms cap the length of one message (Telegram 4096,
 * Discord 2000, Slack 40k characters…), so a long agent message goes out as several parts.
 */

/**
 * Splits `text` into parts of at most `maxLength` UTF-16 units, in order. It cuts at the last line
 * break, else the last space, in the second half of a part, so words stay whole where possible;
 * it never cuts a surrogate pair (an emoji) in two. The separator at a cut is dropped (it would
 * only start the next part with a blank), and so is a whitespace-only last part, which no
 * platform shows as a message.
 *
 * @example
 * splitText('aaaaaa bbbbbb\nccc', 8); // ['aaaaaa', 'bbbbbb', 'ccc']
 */
export function splitText(text: string, maxLength: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > maxLength) {
    const separator = [rest.lastIndexOf('\n', maxLength), rest.lastIndexOf(' ', maxLength)].find(
      (index) => index >= maxLength / 2,
    );
    let cut = separator ?? maxLength;
    if (separator === undefined && isHighSurrogate(rest.charCodeAt(cut - 1))) cut -= 1;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(separator === undefined ? cut : cut + 1);
  }
  if (rest.trim().length > 0) parts.push(rest);
  return parts;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
