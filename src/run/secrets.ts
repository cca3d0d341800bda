import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ChecklistSpec } from '../checklist/schema.js';
import { DeployCheckError, ErrorCode } from '../errors.js';

const SECRET_PATTERN = /\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}/g;
const REDACTED = '[redacted]';
/** Values shorter than this are not scrubbed from text: "1" or "on" would mangle every message. */
const MIN_REDACTABLE = 4;

export interface SecretSource {
  get(name: string): string | undefined;
  /** Where the secret is looked up, for "secret X is not set (…)" errors. */
  where(name: string): string;
}

export function secretSource(
  spec: ChecklistSpec['secrets'],
  baseDir: string,
  env: NodeJS.ProcessEnv,
): SecretSource {
  if (spec.source === 'file') {
    const dir = path.resolve(baseDir, spec.dir ?? 'secrets');
    return {
      get(name) {
        try {
          return readFileSync(path.join(dir, name), 'utf8').replace(/\r?\n$/, '');
        } catch {
          return undefined;
        }
      },
      where: (name) => `file ${path.join(dir, name)}`,
    };
  }
  return {
    get: (name) => {
      const v = env[spec.prefix + name];
      return v === undefined || v === '' ? undefined : v;
    },
    where: (name) => `environment variable ${spec.prefix + name}`,
  };
}

/** JSON string escaping without the quotes: how a value looks inside JSON.stringify output. */
function jsonEscaped(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** The ellipsis probes append when they cut a long observed value (see checks/http.ts `truncate`). */
const CUT = '…';

/**
 * Collects every secret value a run touched and scrubs them from text: as given, URL-encoded, and
 * JSON-escaped once or twice (a probe shows a body as `body "…"`: an echoed JSON body holding the
 * secret is escaped twice). A value cut short by a probe's truncation (`…`) is scrubbed too.
 *
 * Security fix (found by the secrets e2e test): only the literal and URL-encoded forms were
 * scrubbed, so a secret containing `"` or `\` reached Slack, MongoDB and reports in its escaped
 * form, and a reflected secret cut at 60 characters leaked its first part.
 */
export class Redactor {
  private readonly values = new Set<string>();

  add(value: string): void {
    if (value.length < MIN_REDACTABLE) return;
    const encoded = encodeURIComponent(value);
    for (const form of [value, encoded, jsonEscaped(value), jsonEscaped(jsonEscaped(value))])
      this.values.add(form);
  }

  redact(text: string): string {
    if (this.values.size === 0) return text;
    let out = text;
    // Longest first, so a secret containing another is scrubbed whole.
    const forms = [...this.values].sort((a, b) => b.length - a.length);
    for (const v of forms) out = out.split(v).join(REDACTED);
    if (!out.includes(CUT)) return out;
    // A secret cut by truncation: its first characters, right before an ellipsis (each one).
    return out.replace(/[^…]{1,400}(?=…)/g, (before) => {
      // A cut inside a surrogate pair leaves half a character (or its `\udXXX` escape) last.
      const half = /(?:\\+u[dD][89abAB][0-9a-fA-F]{2}|[\ud800-\udbff])$/.exec(before)?.[0] ?? '';
      const whole = before.slice(0, before.length - half.length);
      for (const v of forms) {
        for (let n = Math.min(v.length - 1, whole.length); n >= MIN_REDACTABLE; n--) {
          if (whole.endsWith(v.slice(0, n))) return `${whole.slice(0, -n)}${REDACTED}`;
        }
      }
      return before;
    });
  }

  redactDeep<T>(value: T): T {
    if (this.values.size === 0) return value;
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redactDeep(v)])) as T;
    }
    return value;
  }
}

export function mentionsSecret(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes('${secret:');
}

/** Deep-replaces ${secret:NAME} in params; each value used is registered with the redactor. */
export function resolveSecrets<T>(value: T, source: SecretSource, redactor: Redactor): T {
  if (typeof value === 'string') {
    return value.replace(SECRET_PATTERN, (_m, name: string) => {
      const secret = source.get(name);
      if (secret === undefined) {
        throw new DeployCheckError(
          ErrorCode.SecretMissing,
          `secret ${name} is not set (${source.where(name)})`,
        );
      }
      redactor.add(secret);
      return secret;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => resolveSecrets(v, source, redactor)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveSecrets(v, source, redactor)]),
    ) as T;
  }
  return value;
}
