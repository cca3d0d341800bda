import type { ItemResult, RunResult } from '../run/types.js';

function xml(text: string): string {
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these characters; strip them.
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
  );
}

function testcase(i: ItemResult): string {
  const head = `    <testcase classname="${xml(i.phaseId)}" name="${xml(i.title)}" time="${(i.durationMs / 1000).toFixed(3)}"`;
  const message = xml(
    [i.observed && `observed: ${i.observed}`, i.expected && `expected: ${i.expected}`, i.detail]
      .filter(Boolean)
      .join('; '),
  );
  switch (i.status) {
    case 'fail':
    case 'inconclusive':
      return i.severity === 'critical'
        ? `${head}>\n      <failure message="${message}" type="${i.status}"/>\n    </testcase>`
        : `${head}>\n      <system-out>${message}</system-out>\n    </testcase>`;
    case 'error':
      return i.severity === 'critical'
        ? `${head}>\n      <error message="${message}" type="error"/>\n    </testcase>`
        : `${head}>\n      <system-out>${message}</system-out>\n    </testcase>`;
    case 'skipped':
    case 'pending':
      return `${head}>\n      <skipped message="${message}"/>\n    </testcase>`;
    default:
      return `${head}/>`;
  }
}

/** JUnit XML, one testsuite per phase, so CI systems show the checklist as tests. */
export function renderJunit(run: RunResult): string {
  const suites = run.phases.map((p) => {
    const failures = p.items.filter(
      (i) => i.severity === 'critical' && (i.status === 'fail' || i.status === 'inconclusive'),
    ).length;
    const errors = p.items.filter((i) => i.severity === 'critical' && i.status === 'error').length;
    const skipped = p.items.filter((i) => i.status === 'skipped' || i.status === 'pending').length;
    const time = p.items.reduce((s, i) => s + i.durationMs, 0) / 1000;
    return [
      `  <testsuite name="${xml(p.title)}" id="${xml(p.id)}" tests="${p.items.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time.toFixed(3)}">`,
      ...p.items.map(testcase),
      '  </testsuite>',
    ].join('\n');
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${xml(run.title)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
