/**
 * Block builders that cannot produce a block Slack would refuse: every text is clipped to its
 * field's limit here, so renderers only decide *what* to say. `packBlocks` does the same for a
 * whole message (block count and payload size).
 */
import type {
  ActionsBlock,
  Button,
  ContextBlock,
  HeaderBlock,
  KnownBlock,
  MrkdwnElement,
  SectionBlock,
} from '@slack/types';
import { clip, plain } from './escape.js';

export const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  contextText: 3000,
  contextElements: 10,
  headerText: 150,
  buttonText: 75,
  blockId: 255,
  actionsElements: 25,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** Serialised blocks; with the ≤ 500-character fallback text a message stays under ~12,000. */
  blocksChars: 11_000,
  fallbackText: 500,
} as const;

export interface SlackMessage {
  /** Plain fallback for notifications and screen readers (escaped: Slack parses it as mrkdwn). */
  text: string;
  blocks: KnownBlock[];
}

/** Slack rejects empty text objects; an em dash reads as "nothing here". */
function nonEmpty(s: string): string {
  return s.trim() === '' ? '—' : s;
}

function mrkdwn(text: string, max: number): MrkdwnElement {
  return { type: 'mrkdwn', text: nonEmpty(clip(text, max)) };
}

export function blockIdOf(raw: string): string {
  if (raw.length <= LIMITS.blockId) return raw;
  // Keeps long ids unique and stable: a prefix to read plus a hash of the whole.
  return `${raw.slice(0, LIMITS.blockId - 9)}~${fnv1a(raw)}`;
}

/** Deterministic block ids for one message, made unique when two items share a key. */
export class BlockIds {
  private readonly used = new Set<string>();

  next(raw: string): string {
    let id = blockIdOf(raw);
    for (let n = 2; this.used.has(id); n++) id = blockIdOf(`${raw}#${n}`);
    this.used.add(id);
    return id;
  }
}

function fnv1a(s: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    hash ^= s.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** `text` is escaped mrkdwn. */
export function section(blockId: string, text: string, accessory?: Button): SectionBlock {
  return {
    type: 'section',
    block_id: blockIdOf(blockId),
    text: mrkdwn(text, LIMITS.sectionText),
    ...(accessory ? { accessory } : {}),
  };
}

/** `fields` are escaped mrkdwn. */
export function fieldsSection(blockId: string, fields: readonly string[]): SectionBlock {
  return {
    type: 'section',
    block_id: blockIdOf(blockId),
    fields: fields.slice(0, LIMITS.fields).map((f) => mrkdwn(f, LIMITS.fieldText)),
  };
}

/** `text` is escaped mrkdwn. */
export function context(blockId: string, text: string): ContextBlock {
  return { type: 'context', block_id: blockIdOf(blockId), elements: [mrkdwn(text, LIMITS.contextText)] };
}

/** `text` is raw (plain_text is shown as is). */
export function header(blockId: string, text: string): HeaderBlock {
  return {
    type: 'header',
    block_id: blockIdOf(blockId),
    text: { type: 'plain_text', text: nonEmpty(plain(text, LIMITS.headerText)), emoji: true },
  };
}

export interface ButtonSpec {
  actionId: string;
  /** Raw label. */
  text: string;
  value: string;
  style?: 'primary' | 'danger';
  confirm?: { title: string; text: string; confirm: string; deny: string };
}

export function button(spec: ButtonSpec): Button {
  return {
    type: 'button',
    action_id: spec.actionId,
    text: { type: 'plain_text', text: nonEmpty(plain(spec.text, LIMITS.buttonText)), emoji: true },
    value: spec.value,
    ...(spec.style ? { style: spec.style } : {}),
    ...(spec.confirm
      ? {
          confirm: {
            title: { type: 'plain_text', text: nonEmpty(plain(spec.confirm.title, LIMITS.confirmTitle)) },
            text: { type: 'plain_text', text: nonEmpty(plain(spec.confirm.text, LIMITS.confirmText)) },
            confirm: {
              type: 'plain_text',
              text: nonEmpty(plain(spec.confirm.confirm, LIMITS.confirmButton)),
            },
            deny: { type: 'plain_text', text: nonEmpty(plain(spec.confirm.deny, LIMITS.confirmButton)) },
          },
        }
      : {}),
  };
}

/**
 * One actions block per call. Slack wants action ids unique within a block, so a second button
 * with the same action id is dropped rather than sent (the handler could not tell them apart).
 */
export function actions(blockId: string, buttons: readonly Button[]): ActionsBlock {
  const seen = new Set<string>();
  const unique = buttons.filter((b) => {
    const id = b.action_id ?? '';
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return { type: 'actions', block_id: blockIdOf(blockId), elements: unique.slice(0, LIMITS.actionsElements) };
}

export function fallbackText(text: string): string {
  return nonEmpty(clip(text, LIMITS.fallbackText));
}

export interface Budget {
  maxBlocks: number;
  maxChars: number;
}

export function messageBudget(maxBlocks?: number): Budget {
  // Below 4 there is no room for a header, one item, the overflow line and the re-run button.
  const blocks = Math.max(4, Math.min(LIMITS.blocks, Math.floor(maxBlocks ?? LIMITS.blocks)));
  return { maxBlocks: blocks, maxChars: LIMITS.blocksChars };
}

/** What the payload of these blocks costs, counted as Slack receives it (JSON). */
export function blocksChars(blocks: readonly KnownBlock[]): number {
  return JSON.stringify(blocks).length;
}

export interface Group<T> {
  item: T;
  /** Where the group goes in the message (groups are offered in priority order, shown in this order). */
  rank: number;
  blocks: KnownBlock[];
}

export interface Packed<T> {
  blocks: KnownBlock[];
  shown: T[];
  omitted: T[];
}

function fits(blocks: readonly KnownBlock[], budget: Budget): boolean {
  return blocks.length <= budget.maxBlocks && blocksChars(blocks) <= budget.maxChars;
}

function assemble<T>(head: KnownBlock[], shown: Group<T>[], tail: KnownBlock[]): KnownBlock[] {
  const ordered = [...shown].sort((a, b) => a.rank - b.rank);
  return [...head, ...ordered.flatMap((g) => g.blocks), ...tail];
}

/**
 * Head, then as many groups as the budget allows (in priority order, stopping at the first that
 * does not fit so a less important item is never shown in place of a more important one), then
 * `tail(omitted)`. Room for the tail is reserved at its largest (everything omitted); should a
 * tail ever grow past that, groups are given back until the message fits, so the budget holds
 * whatever the inputs. The head and a fully-omitted tail must fit on their own (renderers clip
 * them to a few thousand characters).
 */
export function packBlocks<T>(input: {
  head: KnownBlock[];
  groups: Group<T>[];
  tail: (omitted: T[]) => KnownBlock[];
  budget: Budget;
}): Packed<T> {
  const { head, groups, tail, budget } = input;
  const worstTail = tail(groups.map((g) => g.item));
  let blockCount = head.length + worstTail.length;
  // JSON array overhead: brackets once, a comma per block.
  let chars = blocksChars(head) + blocksChars(worstTail);
  const shown: Group<T>[] = [];
  for (const group of groups) {
    const cost = group.blocks.reduce((n, b) => n + JSON.stringify(b).length + 1, 0);
    if (blockCount + group.blocks.length > budget.maxBlocks || chars + cost > budget.maxChars) break;
    shown.push(group);
    blockCount += group.blocks.length;
    chars += cost;
  }
  const omittedOf = () => groups.filter((g) => !shown.includes(g)).map((g) => g.item);
  let blocks = assemble(head, shown, tail(omittedOf()));
  while (!fits(blocks, budget) && shown.length > 0) {
    shown.pop();
    blocks = assemble(head, shown, tail(omittedOf()));
  }
  return { blocks, shown: shown.map((g) => g.item), omitted: omittedOf() };
}
