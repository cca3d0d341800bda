import { Document, type YAMLMap, type YAMLSeq } from 'yaml';
import { DeployCheckError, describeError, ErrorCode } from '../../errors.js';
import { parseChecklist } from '../load.js';

/**
 * `deploy-check init`: a starter checklist for a web service, from a built-in template. It
 * validates as written; the user grows it from there (or imports their own with `import`).
 */

export interface InitOptions {
  service: string;
  /** The service's public URL, e.g. https://api.example.com. */
  baseUrl: string;
  /** Slack channel for runs, e.g. "#deploys" or a channel id. */
  channel?: string;
  /** Slack user ids (U…/W…) or mentions (<@U…>) of those who approve a release. */
  approvers: string[];
  /** The checklist's name (default: from the service). */
  name?: string;
}

const APPROVER_ROLE = 'approvers';

interface TemplateItem {
  id: string;
  title: string;
  comment: string;
  check: { type: string } & Record<string, unknown>;
}

interface TemplatePhase {
  id: string;
  title: string;
  items: TemplateItem[];
}

/** The web-service template: transport security first, then health. Targets come from the vars. */
function webServicePhases(tlsPort: number | undefined): TemplatePhase[] {
  return [
    {
      id: 'security',
      title: 'Security',
      items: [
        {
          id: 'https-redirect',
          title: 'HTTP redirects to HTTPS',
          comment: ' plain http:// must answer with a redirect that ends on https',
          check: { type: 'redirect', url: 'http://{{host}}/' },
        },
        {
          id: 'tls-certificate',
          title: 'TLS certificate valid for at least 14 days, TLS 1.2+',
          comment: ' fails within 14 days of expiry, warns within 30',
          check: { type: 'tls', host: '{{host}}', ...(tlsPort ? { port: tlsPort } : {}) },
        },
        {
          id: 'security-headers',
          title: 'Security headers set (HSTS, CSP, framing, nosniff, Referrer-Policy)',
          comment: ' preset "security"; add require:/forbid: for headers of your own',
          check: { type: 'headers', url: '{{baseUrl}}/' },
        },
        {
          id: 'nothing-exposed',
          title: 'No .env, .git or source maps served',
          comment: ' the default paths; add your own with paths:',
          check: { type: 'exposed', baseUrl: '{{baseUrl}}' },
        },
      ],
    },
    {
      id: 'health',
      title: 'Health',
      items: [
        {
          id: 'health-endpoint',
          title: 'Health endpoint answers 200',
          comment: ' point it at your health route if it is not /health',
          check: { type: 'http', url: '{{baseUrl}}/health', expect: { status: 200 } },
        },
        {
          id: 'latency',
          title: 'Health endpoint p95 under 500 ms',
          comment: ' tighten the thresholds once you know your baseline',
          check: { type: 'latency', url: '{{baseUrl}}/health', samples: 20, thresholds: { p95: '500ms' } },
        },
      ],
    },
  ];
}

function usage(message: string): DeployCheckError {
  return new DeployCheckError(ErrorCode.Usage, message);
}

function parseBaseUrl(baseUrl: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw usage(`--base-url "${baseUrl}": expected an http:// or https:// URL, e.g. https://api.example.com`);
  }
  return url;
}

/** "<@U0123ABCD>" or "U0123ABCD" → "U0123ABCD". */
function slackUserId(approver: string): string {
  const s = approver.trim();
  const id = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(s)?.[1] ?? s;
  if (!/^[UW][A-Z0-9]{6,}$/.test(id)) {
    throw usage(
      `approver "${approver}": expected a Slack user id like U0123ABCD (profile → ⋮ → Copy member ID)`,
    );
  }
  return id;
}

function checklistName(options: InitOptions): string {
  const name =
    options.name ??
    options.service
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64)
      .replace(/-+$/g, '');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || name.length > 64) {
    throw usage(`--name "${name}": expected lower-case letters, digits and dashes (e.g. "api-release")`);
  }
  return name;
}

function varsFor(url: URL): Record<string, { default: string; description: string }> {
  const base = url.href.replace(/\/+$/, '');
  return {
    baseUrl: { default: base, description: 'The service root; override per run with --var baseUrl=…' },
    host: {
      default: url.hostname,
      description: 'Host name: plain HTTP (port 80) must redirect, the certificate must match it',
    },
  };
}

function starterDocument(options: InitOptions, url: URL, approvers: string[]): Document {
  // Vars interpolate as strings, so a non-default TLS port is written as a number here.
  const phases = webServicePhases(url.protocol === 'https:' && url.port ? Number(url.port) : undefined);
  const service = options.service.trim();
  const doc = new Document({
    version: 1,
    name: checklistName(options),
    title: `${service} production deploy`,
    service,
    ...(options.channel?.trim() ? { channel: options.channel.trim() } : {}),
    vars: varsFor(url),
    roles: {
      [APPROVER_ROLE]: { users: approvers, description: `Who approves a production deploy of ${service}` },
    },
    phases: phases.map((p) => ({
      id: p.id,
      title: p.title,
      items: p.items.map((i) => ({ id: i.id, title: i.title, check: i.check })),
    })),
    approvals: {
      id: 'release',
      title: 'Release approval',
      required: 1,
      roles: [APPROVER_ROLE],
      expiresIn: '4h',
    },
  });
  doc.commentBefore = [
    ` Starter checklist for ${service}, written by \`deploy-check init\`.`,
    ' Run it: deploy-check run <this file>   Reference of every field and probe type: docs/CHECKLIST.md',
    ' Already have a Markdown checklist? deploy-check import <file.md> turns its boxes into items.',
  ].join('\n');
  const phaseNodes = (doc.get('phases', true) as unknown as YAMLSeq).items as YAMLMap[];
  phases.forEach((phase, pi) => {
    const itemNodes = (phaseNodes[pi]!.get('items', true) as unknown as YAMLSeq).items as YAMLMap[];
    phase.items.forEach((item, ii) => {
      itemNodes[ii]!.commentBefore = item.comment;
    });
  });
  return doc;
}

/**
 * A starter checklist (YAML) for a web service: security (redirect, TLS, headers, exposed files),
 * health (endpoint, latency) and a release approval by the given approvers. Throws
 * `DeployCheckError(Usage)` for a bad URL, approver id or name.
 */
export function initChecklist(options: InitOptions): string {
  if (options.service.trim() === '')
    throw usage('--service: give the name of the service this checklist deploys');
  const url = parseBaseUrl(options.baseUrl);
  if (options.approvers.length === 0) {
    throw usage('--approvers: give at least one Slack user id (U…) who may approve a release');
  }
  const approvers = [...new Set(options.approvers.map(slackUserId))];
  const yaml = starterDocument(options, url, approvers).toString({ lineWidth: 0 });
  try {
    parseChecklist(yaml, { file: 'init template' });
  } catch (err) {
    throw new DeployCheckError(
      ErrorCode.ChecklistInvalid,
      `the starter checklist does not validate — a bug in deploy-check init, please report it:\n${describeError(err)}`,
      { cause: err },
    );
  }
  return yaml;
}
