/**
 * Fuzzing the Redactor the way probes use it: a secret reflected by a target ends up in a probe's
 * observed value after the probe's own formatting — JSON-quoted (`body "…"`), inside an echoed
 * JSON document (escaped twice), URL-encoded in a redirect, or cut by truncation at 60 characters.
 * Whatever the secret's characters and wherever the cut falls, no 8-character piece of it (in any
 * of those forms) survives redaction.
 *
 * 5,000 generated (secret, surrounding text, formatting) cases per run. Secrets have no whitespace
 * (probes collapse whitespace when they truncate, which no literal match can follow) and are at
 * least 8 characters long (shorter values are not redacted at all: they would mangle messages).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { truncate } from '../../src/checks/http.js';
import { Redactor } from '../../src/run/secrets.js';

const secretArb = fc
  .string({
    minLength: 8,
    maxLength: 48,
    unit: fc.oneof(
      fc.constantFrom(...'"\\/+=%<>&?#\'`|{}[]:;,.!@$^*()~'.split('')),
      fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme-ascii' }),
      fc.constantFrom('é', '🚀', '\u0007', '\u2028'),
    ),
  })
  .filter((s) => !/\s|…/.test(s));

const padArb = fc.string({ maxLength: 80 }).filter((s) => !s.includes('…'));

type Format = (text: string) => string;
const formats: Array<[string, Format]> = [
  ['as is', (t) => t],
  ['quoted body snippet', (t) => `body ${JSON.stringify(truncate(t, 60))}`],
  [
    'echoed JSON, quoted and cut',
    (t) => `body ${JSON.stringify(truncate(JSON.stringify({ authorization: t }), 60))}`,
  ],
  ['JSON value', (t) => `$.a is ${truncate(JSON.stringify(t), 60)}`],
  ['redirect', (t) => `302 → http://x/next?k=${encodeURIComponent(t)}`],
  ['header', (t) => `x-echo: ${JSON.stringify(truncate(t, 60))}`],
];

function forms(secret: string): string[] {
  const once = JSON.stringify(secret).slice(1, -1);
  return [secret, encodeURIComponent(secret), once, JSON.stringify(once).slice(1, -1)];
}

describe('fuzz: a reflected secret never survives redaction', () => {
  it('5,000 secrets, reflected, formatted and cut like probe output', () => {
    fc.assert(
      fc.property(secretArb, padArb, padArb, fc.nat(formats.length - 1), (secret, before, after, f) => {
        const redactor = new Redactor();
        redactor.add(secret);
        const [, format] = formats[f]!;
        const shown = redactor.redact(format(`${before}${secret}${after}`));
        for (const form of forms(secret))
          for (let i = 0; i + 8 <= form.length; i++) {
            const piece = form.slice(i, i + 8);
            // A piece the surrounding text itself contains is not a leak of the secret.
            if (
              shown.includes(piece) &&
              !format(`${before}${after}`).includes(piece) &&
              !'[redacted]'.includes(piece)
            )
              throw new Error(
                `${JSON.stringify(piece)} of ${JSON.stringify(secret)} survives in ${JSON.stringify(shown)}`,
              );
          }
      }),
      { numRuns: 5_000 },
    );
  });

  it('leaves text without secrets alone', () => {
    const redactor = new Redactor();
    redactor.add('s3cr3t-value');
    expect(redactor.redact('nothing to see… here…')).toBe('nothing to see… here…');
    expect(redactor.redact('token s3cr3t…')).toBe('token [redacted]…');
    expect(redactor.redact('a s3cr3t… and s3cr3t-va…')).toBe('a [redacted]… and [redacted]…');
  });
});
