/** The thread's root message: what is being deployed, where the run stands and what people can do. */
import type { KnownBlock } from '@slack/types';
import type { GateView, RunView } from '../../state/run-view.js';
import { ACTIONS, tryEncodeValue } from './actions.js';
import {
  actions,
  BlockIds,
  button,
  context,
  fallbackText,
  fieldsSection,
  type Group,
  header,
  messageBudget,
  packBlocks,
  type SlackMessage,
  section,
} from './blocks.js';
import { clip, code, inline } from './escape.js';
import { mention, plural, utc } from './format.js';
import {
  blockersText,
  evidenceText,
  fallback,
  gateTitle,
  parentPhaseLines,
  rejectionText,
  runTitle,
  signoffLines,
  statusLine,
  statusSummary,
} from './summary.js';

const PHASES_MAX = 2000;
const GATE_MAX = 1500;
const LIST_MAX = 10;

function runFields(view: RunView, env: string | undefined): KnownBlock {
  const { run } = view;
  return fieldsSection('run:fields', [
    `*Checklist*\n${code(run.checklist, 100)}`,
    `*Service*\n${code(run.service, 200)}`,
    `*Environment*\n${env ? code(env, 100) : '—'}`,
    `*Requested by*\n${mention(run.requester)}`,
    `*Run*\n${code(run._id, 40)}`,
    `*Started*\n${utc(run.createdAt)}`,
  ]);
}

function approversText(g: GateView): string {
  if (g.approvals.length === 0) return 'No approvals yet.';
  const shown = g.approvals.slice(0, LIST_MAX).map((a) => {
    const roles = a.roles.length
      ? ` (${a.roles
          .slice(0, 5)
          .map((r) => inline(r, 60))
          .join(', ')})`
      : '';
    return `${mention(a.user)}${roles}`;
  });
  const rest = g.approvals.length - shown.length;
  return `Approved so far: ${shown.join(', ')}${rest > 0 ? ` and ${rest} more` : ''}`;
}

/** Approvals given before a re-run changed the results: shown so nobody wonders where their vote went. */
function voidedText(g: GateView): string {
  const n = g.voided.length;
  if (n === 0) return '';
  const who = g.voided.slice(0, LIST_MAX).map((v) => mention(v.user));
  const verb = n === 1 ? 'approval was' : 'approvals were';
  return `_${n} earlier ${verb} voided because a re-run changed the results_ (${who.join(', ')}${n > LIST_MAX ? ', …' : ''})`;
}

function rolesText(g: GateView): string {
  if (g.gate.roles.length === 0) return '';
  const roles = g.gate.roles.map((r) => code(r, 60)).join(', ');
  const missing = g.quorum.missingRoles.length
    ? ` (still missing: ${g.quorum.missingRoles.map((r) => code(r, 60)).join(', ')})`
    : '';
  return `Required roles: ${roles}${missing}`;
}

function gateText(g: GateView): string {
  const met = g.quorum.met ? ' ✅' : '';
  const lines = [
    `🗳️ *${gateTitle(g.gate)}* — ${g.quorum.approvals} of ${plural(g.quorum.required, 'approval')} required${met}`,
    rolesText(g),
    approversText(g),
    voidedText(g),
    g.expiresAt ? `Expires ${utc(g.expiresAt)}` : '',
  ];
  return lines.filter(Boolean).join('\n');
}

/** Buttons only while a vote can still count: unmet and not expired. */
function gateButtons(view: RunView, g: GateView, blockId: string): KnownBlock[] {
  const votable =
    view.status === 'awaiting-approval' && !g.quorum.met && (g.open || g.expiresAt === undefined);
  const value = tryEncodeValue([view.run._id, g.gate.id]);
  if (!votable || value === undefined) return [];
  // The buttons sit right under their gate's section, so they need not repeat its name.
  return [
    actions(blockId, [
      button({ actionId: ACTIONS.approve, text: 'Approve', value, style: 'primary' }),
      button({ actionId: ACTIONS.reject, text: 'Reject…', value, style: 'danger' }),
    ]),
  ];
}

function gateGroups(view: RunView): Group<GateView>[] {
  if (view.status !== 'awaiting-approval' && view.status !== 'expired') return [];
  // Gate ids are unique in a valid checklist; the allocator keeps a duplicate from breaking the message.
  const ids = new BlockIds();
  return view.gates.map((g, rank) => ({
    item: g,
    rank,
    blocks: [
      section(ids.next(`gate:${g.gate.id}`), clip(gateText(g), GATE_MAX)),
      ...gateButtons(view, g, ids.next(`vote:${g.gate.id}`)),
    ],
  }));
}

function outcomeBlocks(view: RunView): KnownBlock[] {
  switch (view.status) {
    case 'approved': {
      const lines = signoffLines(view, 10);
      return [
        section('run:signoff', ['*Signed off*', ...lines].join('\n')),
        context('run:evidence', evidenceText(view)),
      ];
    }
    case 'rejected': {
      const reason = rejectionText(view, 2000, { withWho: false });
      return reason ? [section('run:rejected', reason)] : [];
    }
    case 'blocked':
      return [section('run:blockers', `*Blocking items*\n${blockersText(view, 2500)}`)];
    case 'awaiting-people': {
      // Which items wait is shown (and ticked) in their phase messages, not repeated here.
      return [];
    }
    case 'errored':
      return view.errored
        ? [
            context(
              'run:errored',
              `Stopped ${utc(view.errored.at)}: ${code(view.errored.reason, 100)}. Nothing more runs for this run; start a new one with ${code(`/deploy-check run ${view.run.checklist}`, 140)}.`,
            ),
          ]
        : [];
    case 'cancelled':
      return view.cancelled
        ? [context('run:cancelled', `Cancelled by ${mention(view.cancelled.by)} — ${utc(view.cancelled.at)}`)]
        : [];
    default:
      return [];
  }
}

function deployedButton(view: RunView): KnownBlock[] {
  const value = tryEncodeValue([view.run._id]);
  if ((view.status !== 'approved' && view.status !== 'passed') || value === undefined) return [];
  return [
    actions(`deployed:${view.run._id}`, [
      button({ actionId: ACTIONS.deployed, text: 'Mark deployed', value, style: 'primary' }),
    ]),
  ];
}

/** Outside the approval section (e.g. a re-run turned the run blocked), voided approvals still get said. */
function voidedNotice(view: RunView): KnownBlock[] {
  if (view.status === 'awaiting-approval' || view.status === 'expired') return [];
  const lines = view.gates.map(voidedText).filter(Boolean);
  return lines.length ? [context('run:voided', clip(lines.join('\n'), 2000))] : [];
}

function omittedGates(omitted: readonly GateView[]): KnownBlock[] {
  if (omitted.length === 0) return [];
  return [context('gates:more', `… and ${plural(omitted.length, 'more approval gate')}`)];
}

export function renderParent(view: RunView, opts: { env?: string } = {}): SlackMessage {
  const env = opts.env ?? view.run.env;
  const head: KnownBlock[] = [
    header('run:title', runTitle(view)),
    runFields(view, env),
    section('run:status', statusLine(view, 'parent')),
    section('run:phases', parentPhaseLines(view, PHASES_MAX)),
  ];
  const packed = packBlocks({
    head,
    groups: gateGroups(view),
    tail: (omitted) => [
      ...omittedGates(omitted),
      ...outcomeBlocks(view),
      ...voidedNotice(view),
      ...deployedButton(view),
    ],
    budget: messageBudget(),
  });
  return { text: fallbackText(fallback(view, statusSummary(view, 'parent'))), blocks: packed.blocks };
}
