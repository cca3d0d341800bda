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

/** Collects every secret value a run touched and scrubs them (and their URL-encoded forms) from text. */
export class Redactor {
  private readonly values = new Set<string>();

  add(value: string): void {
    if (value.length < MIN_REDACTABLE) return;
    this.values.add(value);
    const encoded = encodeURIComponent(value);
    if (encoded !== value) this.values.add(encoded);
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret containing another is scrubbed whole.
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(v).join(REDACTED);
    return out;
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
