/** Ephemeral replies to `/deploy-check …`: run list, status, help, usage errors and notices. */
import type { KnownBlock } from '@slack/types';
import type { RunView } from '../../state/run-view.js';
import type { RunDoc } from '../../store/run-store.js';
import {
  context,
  fallbackText,
  type Group,
  messageBudget,
  packBlocks,
  type SlackMessage,
  section,
} from './blocks.js';
import { clip, code, escapeText, escapeWithin, inline } from './escape.js';
import { ago, mention, plural, runStatusIcon, runStatusLabel, utc } from './format.js';
import { phaseLines, runTitle, statusLine, statusSummary } from './summary.js';

function runLine(run: RunDoc, now: Date): string {
  const env = run.env ? ` · ${code(run.env, 60)}` : '';
  return [
    `${runStatusIcon[run.status]} *${inline(run.title || run.checklist, 150)}* · ${code(run._id, 40)}`,
    `${runStatusLabel[run.status]} · ${code(run.service, 100)}${env} · requested by ${mention(run.requester)} · ${ago(run.createdAt, now)}`,
  ].join('\n');
}

/** Recent runs, newest first as given; `now` makes "5 min ago" reproducible. */
export function renderRunList(runs: readonly RunDoc[], now: Date): SlackMessage {
  if (runs.length === 0) {
    const text = `No runs yet. Start one with ${code('/deploy-check run <checklist>', 60)}.`;
    return { text: fallbackText(text), blocks: [section('runs:empty', text)] };
  }
  const groups: Group<RunDoc>[] = runs.map((run, rank) => ({
    item: run,
    rank,
    blocks: [section(`runs:${rank}`, runLine(run, now))],
  }));
  const packed = packBlocks({
    head: [section('runs:title', `*Recent runs* (${runs.length})`)],
    groups,
    tail: (omitted) =>
      omitted.length ? [context('runs:more', `… and ${plural(omitted.length, 'older run')}`)] : [],
    budget: messageBudget(),
  });
  return { text: fallbackText(`${plural(runs.length, 'recent run')}`), blocks: packed.blocks };
}

/** Where one run stands, compact (an ephemeral reply to `/deploy-check status`). */
export function renderStatus(view: RunView): SlackMessage {
  const { run } = view;
  const blocks: KnownBlock[] = [
    section('status:run', `*${inline(runTitle(view), 150)}* · ${code(run._id, 40)}\n${statusLine(view)}`),
    section('status:phases', phaseLines(view, 2500)),
    context(
      'status:meta',
      `${code(run.service, 100)}${run.env ? ` · ${code(run.env, 60)}` : ''} · requested by ${mention(run.requester)} · started ${utc(run.createdAt)}`,
    ),
  ];
  return { text: fallbackText(`${inline(runTitle(view), 150)}: ${statusSummary(view)}`), blocks };
}

const COMMANDS: Array<[string, string]> = [
  ['/deploy-check run <checklist> [env] [key=value …]', 'start a run in this channel'],
  ['/deploy-check status [run-id]', 'where a run stands'],
  ['/deploy-check list', 'recent runs'],
  ['/deploy-check report <run-id>', 'the full report of a run'],
  ['/deploy-check cancel <run-id>', 'stop a run'],
  ['/deploy-check deployed <run-id>', 'record that an approved run was deployed'],
  ['/deploy-check rollback <service> [run-id] [--dry-run]', 'start the rollback runbook'],
  ['/deploy-check help', 'this help'],
];

function checklistsText(checklists: readonly string[]): string {
  if (checklists.length === 0) return '*Checklists:* none found.';
  return clip(`*Checklists:* ${checklists.map((c) => code(c, 64)).join(', ')}`, 2500);
}

export function renderHelp(checklists: readonly string[]): SlackMessage {
  const commands = COMMANDS.map(([usage, what]) => `${code(usage, 100)} — ${escapeText(what)}`).join('\n');
  const blocks: KnownBlock[] = [
    section(
      'help:intro',
      '*deploy-check* runs production-deployment checklists as probes and collects sign-off in the thread.',
    ),
    section('help:commands', commands),
    section('help:checklists', checklistsText(checklists)),
  ];
  return { text: fallbackText('deploy-check help'), blocks };
}

/** A command the bot could not understand: the reason and where to look. */
export function renderUsage(error: string): SlackMessage {
  const text = `⚠️ ${escapeWithin(error, 1500)}`;
  return {
    text: fallbackText(text),
    blocks: [
      section('usage:error', text),
      context('usage:help', `See ${code('/deploy-check help', 40)} for the commands.`),
    ],
  };
}

/** One line of news (an error, a confirmation); the text is escaped. */
export function renderNotice(text: string): SlackMessage {
  const escaped = escapeWithin(text, 2900);
  return { text: fallbackText(escaped), blocks: [section('notice', escaped)] };
}
