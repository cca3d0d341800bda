import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVarsInput } from '../../commands/rollback.js';
import { ChecklistCache } from '../../src/checklist/cache.js';
import { resolveRollbackTarget, withRunVars } from '../../src/rollback/targets.js';

const checklist = (name: string, service: string, rollback = true) => `
name: ${name}
service: ${service}
vars: { base: "http://127.0.0.1:9" }
phases:
  - id: p
    title: P
    items:
      - { id: i, title: I, check: { type: http, url: "{{base}}/health" } }
${rollback ? 'rollback:\n  allowed: U0SRE00001\n  steps:\n    - { id: call, type: webhook, url: "{{base}}/revert" }\n' : ''}`;

describe('rollback <service|checklist>: which playbook', () => {
  let dir: string;
  const cache = new ChecklistCache();
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dc-rb-targets-'));
    writeFileSync(path.join(dir, 'api.yml'), checklist('api', 'api-svc'));
    writeFileSync(path.join(dir, 'api-smoke.yml'), checklist('api-smoke', 'api-svc', false));
    writeFileSync(path.join(dir, 'web.yml'), checklist('web', 'web-svc'));
    writeFileSync(path.join(dir, 'web-canary.yml'), checklist('web-canary', 'web-svc'));
    writeFileSync(path.join(dir, 'bare.yml'), checklist('bare', 'bare-svc', false));
    writeFileSync(path.join(dir, 'broken.yml'), 'name: [');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a checklist by name, or the one playbook of a service', () => {
    expect(resolveRollbackTarget('web-canary', dir, cache).name).toBe('web-canary');
    expect(resolveRollbackTarget('api-svc', dir, cache).name).toBe('api');
  });

  it('an unknown target lists the known services and checklists', () => {
    expect(() => resolveRollbackTarget('nope', dir, cache)).toThrow(
      'no service or checklist "nope" to roll back; services: api-svc, bare-svc, web-svc; checklists: api, api-smoke, bare, broken, web, web-canary',
    );
  });

  it('says what is wrong: no playbook, several playbooks, a checklist that does not load', () => {
    expect(() => resolveRollbackTarget('bare-svc', dir, cache)).toThrow(
      /checklist "bare" \(service bare-svc\) has no rollback playbook/,
    );
    expect(() => resolveRollbackTarget('web-svc', dir, cache)).toThrow(
      'service "web-svc" has several checklists with a rollback playbook: web, web-canary; name the checklist instead',
    );
    expect(() => resolveRollbackTarget('broken', dir, cache)).toThrow(/checklist "broken" does not load/);
  });

  it("uses the target run's variables that the checklist still declares", () => {
    const { checklist: base } = resolveRollbackTarget('api', dir, cache);
    const withVars = withRunVars(base, { base: 'https://api.example.com', gone: 'x' });
    expect(withVars.spec.rollback!.steps[0]).toMatchObject({ url: 'https://api.example.com/revert' });
    expect(base.spec.rollback!.steps[0]).toMatchObject({ url: 'http://127.0.0.1:9/revert' });
  });
});

describe("the confirmation modal's Variables input", () => {
  it('takes key=value lines naming declared variables; blank values and lines are ignored', () => {
    expect(parseVarsInput('deployId = dep-123\n\nbase=\n', ['deployId', 'base'])).toEqual({
      ok: true,
      vars: { deployId: 'dep-123' },
    });
    expect(parseVarsInput('nope=1', ['base'])).toEqual({
      ok: false,
      error: 'line 1: unknown variable "nope"; declared: base',
    });
    expect(parseVarsInput('just text', ['base'])).toEqual({ ok: false, error: 'line 1: expected key=value' });
  });
});
