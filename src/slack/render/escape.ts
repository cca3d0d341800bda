/**
 * Text hygiene for everything user-supplied that ends up in a Slack message: checklist titles,
 * probe output, notes, reasons, vars. Slack parses `<…>` in mrkdwn (and in a message's fallback
 * `text`) as mentions, broadcasts and links, so one stray `<!channel>` in a probe's detail would
 * page a whole channel.
 */

/** Invisible, but breaks Slack's matching of `@channel` / `<!here>`-like tokens. */
const ZWJ = '\u200d';

const BROADCAST = /@(channel|here|everyone)\b/gi;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ELLIPSIS = '…';

/** JSON with lone surrogates is not valid UTF-8; Slack rejects the whole payload for one. */
function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\ufffd');
}

/** Escapes text for mrkdwn: no mention, broadcast, channel link or labelled URL can survive. */
export function escapeText(s: string): string {
  return wellFormed(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(BROADCAST, `@${ZWJ}$1`);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** At most `max` UTF-16 units (what Slack counts), ending in an ellipsis when cut; never splits a surrogate pair. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  if (max === 1) return ELLIPSIS;
  let cut = max - 1;
  if (isHighSurrogate(s.charCodeAt(cut - 1))) cut -= 1;
  return `${s.slice(0, cut)}${ELLIPSIS}`;
}

/**
 * Truncates text that is already escaped mrkdwn without leaving half an entity (`&am…`) behind,
 * which Slack would show as garbage.
 */
export function clip(mrkdwn: string, max: number): string {
  if (mrkdwn.length <= max) return mrkdwn;
  const cut = truncate(mrkdwn, max);
  const body = cut.slice(0, -1);
  const partialEntity = /&[a-z]{0,4}$/.exec(body);
  return partialEntity ? `${body.slice(0, partialEntity.index)}${ELLIPSIS}` : cut;
}

/** Escapes and fits user text into `max` characters (cutting first so 10 KB inputs stay cheap). */
export function escapeWithin(s: string, max: number): string {
  return clip(escapeText(truncate(s, max)), max);
}

/** User text on one line: titles, observed/expected values, names in lists. */
export function inline(s: string, max: number): string {
  // Cut before collapsing whitespace so a 10 KB probe output costs no more than a short one.
  return escapeWithin(
    truncate(s, max * 4)
      .replace(/\s+/g, ' ')
      .trim(),
    max,
  );
}

/** User text in a code span: a backtick inside would end the span early, so it becomes a look-alike. */
export function code(s: string, max: number): string {
  const text = inline(s.replace(/`/g, 'ˋ'), max);
  return text ? `\`${text}\`` : '';
}

/**
 * For plain_text fields (headers, buttons, modal titles, input labels). Slack does not parse
 * plain_text, so nothing is entity-escaped (it would show literally), but `<` and broadcasts still
 * get an invisible joiner so that copied-out text, and our own checks, never see a live token.
 */
export function plain(s: string, max: number): string {
  const oneLine = wellFormed(s).replace(/\s+/g, ' ').trim();
  const defused = oneLine.replace(/</g, `<${ZWJ}`).replace(BROADCAST, `@${ZWJ}$1`);
  return truncate(defused, max);
}
