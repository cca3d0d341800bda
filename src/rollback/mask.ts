/**
 * What a dry run and a step's outcome may show of a request. Secrets written as `${secret:NAME}`
 * are never resolved for display, so the reference itself is shown; a credential written inline
 * in the checklist (a token in a header, a password in a URL) is masked here instead.
 */

export const MASK = '[redacted]';
const SECRET_REF = '${secret:';
const SENSITIVE =
  /authorization|cookie|token|secret|passw(or)?d|api[-_]?key|signature|credential|private[-_]?key|session/i;

export function hasSecretRef(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes(SECRET_REF);
}

function maskValue(value: string): string {
  if (value.includes(SECRET_REF)) return value;
  // "Bearer abc" → "Bearer [redacted]": the scheme says what kind of credential it is.
  const scheme = /^(Bearer|Basic|Token|OAuth|Digest)\s+\S/i.exec(value);
  return scheme ? `${scheme[1]} ${MASK}` : MASK;
}

export function maskHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).map(([k, v]) => [k, SENSITIVE.test(k) ? maskValue(v) : v]),
  );
}

/** A URL with its password and sensitive query parameters masked; a secret reference is kept as written. */
export function maskUrl(url: string): string {
  if (url.includes(SECRET_REF)) return url;
  if (!URL.canParse(url)) return url;
  const u = new URL(url);
  if (u.password) u.password = 'redacted';
  for (const key of [...u.searchParams.keys()]) if (SENSITIVE.test(key)) u.searchParams.set(key, 'redacted');
  return u.toString();
}

/** Where a request went, for outcomes: scheme, host and path — never credentials or the query. */
export function displayUrl(url: string): string {
  if (!URL.canParse(url)) return '(invalid URL)';
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

export function maskBody(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(maskBody);
  if (body && typeof body === 'object') {
    return Object.fromEntries(
      Object.entries(body).map(([k, v]) => [
        k,
        SENSITIVE.test(k) && typeof v === 'string' ? maskValue(v) : maskBody(v),
      ]),
    );
  }
  return body;
}
