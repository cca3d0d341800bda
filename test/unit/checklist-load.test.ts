import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mayRun, runGroups } from '../../src/approvals/policy.js';
import { checklistFileByName, parseChecklist, resolveChecklistRef } from '../../src/checklist/load.js';
import { checklistJsonSchema } from '../../src/checklist/schema.js';
import { ChecklistError } from '../../src/errors.js';

const minimal = `name: demo
service: demo-api
vars:
  baseUrl: https://staging.example.com
roles:
  security: { users: [U0SEC0001] }
phases:
  - id: security
    title: Security
    items:
      - title: Health
        check: { type: http, url: "{{baseUrl}}/health" }
      - title: Auth bypass removed
        manual: { owner: "@security" }
`;

function issuesOf(text: string, vars?: Record<string, string>) {
  try {
    parseChecklist(text, { file: 'x.yml', ...(vars ? { vars } : {}) });
  } catch (err) {
    if (err instanceof ChecklistError) return err.issues;
    throw err;
  }
  throw new Error('expected the checklist to be refused');
}

describe('checklist loading', () => {
  it('interpolates vars, applies overrides and derives stable item keys', () => {
    const c = parseChecklist(minimal, { file: 'x.yml', vars: { baseUrl: 'https://prod.example.com' } });
    const [health, manual] = c.phases[0]!.items;
    expect(health!.key).toBe('security/health');
    expect(health!.kind === 'probe' && health!.check.url).toBe('https://prod.example.com/health');
    expect(manual!.kind === 'manual' && manual!.manual.owner).toEqual([{ role: 'security' }]);
    expect(health!.severity).toBe('critical');
    expect(c.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names file:line:col for invalid YAML', () => {
    const [issue] = issuesOf('name: x\nphases:\n  - id: a\n   title: b\n');
    expect(issue).toMatchObject({ file: 'x.yml', line: 4 });
    expect(issue!.message).toMatch(/invalid YAML/);
  });

  it('names the position of an unknown probe type and lists the known ones', () => {
    const issues = issuesOf(minimal.replace('type: http', 'type: htp'));
    expect(issues[0]).toMatchObject({ line: 12, col: 24 });
    expect(issues[0]!.message).toMatch(/unknown type; expected one of: http, latency/);
  });

  it('refuses an unknown variable where it is used', () => {
    const issues = issuesOf(minimal.replace('{{baseUrl}}', '{{baseURL}}'));
    expect(issues[0]).toMatchObject({ line: 12, col: 36 });
    expect(issues[0]!.message).toBe('unknown variable "baseURL"; declared: baseUrl');
  });

  it('refuses a run-time override of an undeclared variable', () => {
    expect(issuesOf(minimal, { nope: '1' })[0]!.message).toMatch(/unknown variable "nope" given at run time/);
  });

  it('reports every schema problem with its position and what was expected', () => {
    const bad = minimal
      .replace('title: Health', 'title: Health\n        retries: -1\n        bogus: 1')
      .replace('service: demo-api\n', '');
    const issues = issuesOf(bad);
    const messages = issues.map((i) => `${i.line}:${i.message}`);
    expect(messages.some((m) => /service: missing required field/.test(m))).toBe(true);
    expect(messages).toContain('11:phases[0].items[0].retries: Too small: expected number to be >=0');
    expect(messages).toContain('10:phases[0].items[0]: unknown field "bogus"');
  });

  it('refuses an item that is both or neither probe and manual', () => {
    const issues = issuesOf(minimal.replace('manual: { owner: "@security" }', 'severity: warning'));
    expect(issues[0]!.message).toMatch(/exactly one of "check"/);
    expect(issues[0]!.line).toBe(13);
  });

  it('refuses roles that are not declared and duplicate ids', () => {
    expect(issuesOf(minimal.replace('"@security"', '"@nobody"'))[0]!.message).toMatch(
      /role "nobody" is not declared/,
    );
    const dup = minimal.replace(
      '      - title: Auth bypass removed',
      '      - id: health\n        title: Again',
    );
    expect(issuesOf(dup).some((i) => /duplicate item id "health"/.test(i.message))).toBe(true);
  });

  it('prints a JSON Schema that describes every probe type', () => {
    const schema = JSON.stringify(checklistJsonSchema());
    for (const t of [
      'http',
      'latency',
      'load',
      'tls',
      'redirect',
      'headers',
      'compression',
      'http2',
      'exposed',
      'rate-limit',
      'ports',
      'env',
      'mongodb',
      'redis',
      'prometheus',
    ]) {
      expect(schema).toContain(`"const":"${t}"`);
    }
  });
});

describe('checklistFileByName (the bot and workers) vs resolveChecklistRef (the CLI)', () => {
  it('finds a checklist by name in the directory only, never a path typed in Slack', () => {
    const dir = path.join(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'), 'checklists');
    expect(checklistFileByName('clientsvia', dir)).toBe(path.join(dir, 'clientsvia.yml'));
    for (const ref of ['/etc/hostname', '../checklists/clientsvia', 'package.json', 'clientsvia.yml'])
      expect(() => checklistFileByName(ref, dir), ref).toThrow(/no checklist .*available: .*clientsvia/);
    // The CLI takes a path as given.
    expect(resolveChecklistRef('/etc/hostname', dir)).toBe('/etc/hostname');
  });
});

describe('run.allowed: who may start a checklist', () => {
  const withRun = (allowed: string) => `${minimal}run:\n  allowed: ${allowed}\n`;
  const actor = (userId: string, groups: string[] = []) => ({ userId, groups: new Set(groups) });

  it('parses users, groups and roles, and refuses an undeclared role at its position', () => {
    const c = parseChecklist(withRun('[U0RUNNER1, S0GROUP01, "@security"]'), { file: 'x.yml' });
    expect(c.spec.run?.allowed).toEqual([
      { user: 'U0RUNNER1' },
      { group: 'S0GROUP01' },
      { role: 'security' },
    ]);
    const [issue] = issuesOf(withRun('[U0RUNNER1, "@releasers"]'));
    expect(issue).toMatchObject({ file: 'x.yml', line: 16 });
    expect(issue!.message).toBe('role "releasers" is not declared under roles:');
  });

  it('lets anyone run a checklist without run:, and only the named people one with it', () => {
    const open = parseChecklist(minimal, { file: 'x.yml' }).spec;
    expect(mayRun(actor('U0ANYONE1'), open).ok).toBe(true);
    expect(runGroups(open)).toEqual([]);
    const guarded = parseChecklist(
      withRun('[U0RUNNER1, S0GROUP01, "@security"]').replace(
        'security: { users: [U0SEC0001] }',
        'security: { users: [U0SEC0001], groups: [S0SECGRP1] }',
      ),
      { file: 'x.yml' },
    ).spec;
    expect(runGroups(guarded)).toEqual(['S0GROUP01', 'S0SECGRP1']);
    expect(mayRun(actor('U0RUNNER1'), guarded).ok).toBe(true);
    expect(mayRun(actor('U0SEC0001'), guarded).ok).toBe(true);
    expect(mayRun(actor('U0MEMBER1', ['S0GROUP01']), guarded).ok).toBe(true);
    expect(mayRun(actor('U0MEMBER2', ['S0SECGRP1']), guarded)).toMatchObject({
      ok: true,
      roles: ['security'],
    });
    expect(mayRun(actor('U0ANYONE1', ['S0OTHER01']), guarded)).toEqual({
      ok: false,
      rule: 'only <@U0RUNNER1>, <!subteam^S0GROUP01>, role security may start this checklist',
    });
  });
});
