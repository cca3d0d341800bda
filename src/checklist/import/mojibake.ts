/**
 * Repair of "mojibake": UTF-8 text that was once decoded with a legacy single-byte encoding, so
 * that every multi-byte character became two to four Latin characters ("🚀" → "üöÄ" in Mac
 * Roman, "ðŸš€" in Windows-1252). Each such run is turned back into its bytes and re-decoded as
 * UTF-8; anything that does not re-decode cleanly is left exactly as it was.
 */

export type MisdecodedEncoding = 'macroman' | 'windows-1252';

export interface RepairResult {
  text: string;
  /** Characters restored (one per code point, so "⚠️" counts 2: the sign and its variation selector). */
  repaired: number;
  /** The encoding the text had been mis-decoded with; absent when nothing was repaired. */
  encoding?: MisdecodedEncoding;
}

/** Apple's Mac OS Roman, bytes 0x80–0xFF (ROMAN.TXT; 0xDB is the euro sign since Mac OS 8.5, 0xF0 the Apple logo). */
const MAC_ROMAN_HIGH =
  'ÄÅÇÉÑÖÜáàâäãåçéèêëíìîïñóòôöõúùûü' +
  '†°¢£§•¶ß®©™´¨≠ÆØ∞±≤≥¥µ∂∑∏π∫ªºΩæø' +
  '¿¡¬√ƒ≈∆«»…\u00a0ÀÃÕŒœ–—“”‘’÷◊ÿŸ⁄€‹›ﬁﬂ' +
  '‡·‚„‰ÂÊÁËÈÍÎÏÌÓÔ\uf8ffÒÚÛÙıˆ˜¯˘˙˚¸˝˛ˇ';

/**
 * Windows-1252, bytes 0x80–0x9F. The five unassigned bytes (0x81, 0x8D, 0x8F, 0x90, 0x9D) are the
 * C1 controls browsers and most decoders produce for them. 0xA0–0xFF are Latin-1, i.e. U+00A0–U+00FF.
 */
const WINDOWS_1252_C1 = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

function windows1252High(): string {
  let latin1 = '';
  for (let code = 0xa0; code <= 0xff; code++) latin1 += String.fromCharCode(code);
  return WINDOWS_1252_C1 + latin1;
}

/** Character → byte for the upper half of a single-byte encoding. */
function reverseTable(high: string, extra: Array<[string, number]> = []): ReadonlyMap<string, number> {
  const table = new Map<string, number>();
  for (const [i, ch] of [...high].entries()) table.set(ch, 0x80 + i);
  for (const [ch, byte] of extra) table.set(ch, byte);
  return table;
}

function tableFor(encoding: MisdecodedEncoding): ReadonlyMap<string, number> {
  // Before Mac OS 8.5, 0xDB was the currency sign; some decoders give Greek delta for 0xC6.
  return encoding === 'macroman'
    ? reverseTable(MAC_ROMAN_HIGH, [
        ['¤', 0xdb],
        ['Δ', 0xc6],
      ])
    : reverseTable(windows1252High());
}

/** How many bytes a UTF-8 sequence starting with this lead byte has; 0 when it cannot lead one. */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

const isContinuation = (byte: number | undefined): boolean =>
  byte !== undefined && byte >= 0x80 && byte <= 0xbf;

function decodeUtf8Strict(bytes: number[]): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/**
 * A two-byte repair is weak evidence: clean text such as "“Ça" also reads as a valid sequence
 * in Mac Roman. Latin letters (the usual victims, "√©" → "é") are trusted on their own; other
 * scripts only once the same text holds stronger evidence.
 */
function isLatinLetterRange(codePoint: number): boolean {
  return codePoint >= 0xa0 && codePoint <= 0x24f;
}

interface Scan {
  text: string;
  repaired: number;
}

interface Match {
  decoded: string;
  /** Characters of the input it replaces. */
  consumed: number;
}

function scanAndRepair(
  chars: string[],
  table: ReadonlyMap<string, number>,
  trustOtherScripts: boolean,
): Scan {
  let out = '';
  let repaired = 0;
  for (let i = 0; i < chars.length; i++) {
    // Most characters are ASCII or clean text: only those the table knows can start a run.
    const match = table.has(chars[i]!)
      ? (matchSequence(chars, i, table, trustOtherScripts) ?? matchEmojiWithoutLead(chars, i, table))
      : undefined;
    if (match) {
      out += match.decoded;
      repaired += [...match.decoded].length;
      i += match.consumed - 1;
    } else {
      out += chars[i]!;
    }
  }
  return { text: out, repaired };
}

function matchSequence(
  chars: string[],
  start: number,
  table: ReadonlyMap<string, number>,
  trustOtherScripts: boolean,
): Match | undefined {
  const lead = table.get(chars[start]!);
  const length = lead === undefined ? 0 : sequenceLength(lead);
  if (lead === undefined || length === 0) return undefined;
  const decoded = decodeWithLead(lead, chars.slice(start + 1, start + length), table);
  const codePoint = decoded?.codePointAt(0) ?? 0;
  const plausible = codePoint >= 0xa0 && (length > 2 || trustOtherScripts || isLatinLetterRange(codePoint));
  return decoded !== undefined && plausible ? { decoded, consumed: length } : undefined;
}

/**
 * Emoji start with byte 0xF0, which Mac Roman decodes to the Apple logo (U+F8FF, private use):
 * copy-paste often drops it, leaving "üöÄ" for "🚀". Three continuation characters that decode,
 * with 0xF0 put back, to a pictograph are taken to be such an emoji.
 */
function matchEmojiWithoutLead(
  chars: string[],
  start: number,
  table: ReadonlyMap<string, number>,
): Match | undefined {
  const decoded = decodeWithLead(0xf0, chars.slice(start, start + 3), table);
  const codePoint = decoded?.codePointAt(0) ?? 0;
  return decoded !== undefined && codePoint >= 0x1f000 && codePoint <= 0x1faff
    ? { decoded, consumed: 3 }
    : undefined;
}

function decodeWithLead(
  lead: number,
  rest: string[],
  table: ReadonlyMap<string, number>,
): string | undefined {
  const bytes = [lead];
  for (const ch of rest) {
    const byte = table.get(ch);
    if (!isContinuation(byte)) return undefined;
    bytes.push(byte!);
  }
  return bytes.length === sequenceLength(lead) ? decodeUtf8Strict(bytes) : undefined;
}

function repairAs(text: string, encoding: MisdecodedEncoding): Scan {
  const chars = [...text];
  const table = tableFor(encoding);
  const cautious = scanAndRepair(chars, table, false);
  return cautious.repaired > 0 ? scanAndRepair(chars, table, true) : cautious;
}

/** Cheap pre-check: every mis-decoded run contains at least one non-ASCII character. */
function hasNonAscii(text: string): boolean {
  return /[^\p{ASCII}]/u.test(text);
}

/**
 * Repairs UTF-8 text that was read as Mac Roman or Windows-1252 ("‚úÖ" → "✅"). Clean UTF-8
 * ("café", "→", "🚀") is returned unchanged. When both encodings could explain the text, the
 * one that repairs more wins.
 */
export function repairMojibake(text: string): RepairResult {
  if (!hasNonAscii(text)) return { text, repaired: 0 };
  const candidates = (['macroman', 'windows-1252'] as const).map((encoding) => ({
    encoding,
    ...repairAs(text, encoding),
  }));
  const best = candidates.reduce((a, b) => (b.repaired > a.repaired ? b : a));
  return best.repaired > 0 ? best : { text, repaired: 0 };
}

export function describeEncoding(encoding: MisdecodedEncoding): string {
  return encoding === 'macroman' ? 'Mac Roman' : 'Windows-1252';
}
