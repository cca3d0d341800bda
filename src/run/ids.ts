import { createHash } from 'node:crypto';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

function encode(bytes: Buffer, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i]! % ALPHABET.length];
  return out;
}

/**
 * A run id derived from what identifies the request (checklist digest, vars, and an idempotency
 * key such as Slack's trigger id), so a redelivered request maps to the same run. Never all
 * digits and never contains ':' (BullMQ job ids).
 */
export function deriveRunId(parts: {
  checklist: string;
  digest: string;
  vars: Record<string, string>;
  key: string;
}): string {
  const canonical = JSON.stringify([
    parts.checklist,
    parts.digest,
    Object.entries(parts.vars).sort(),
    parts.key,
  ]);
  return `r-${encode(createHash('sha256').update(canonical).digest(), 10)}`;
}
