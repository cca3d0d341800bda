/** Modals opened from the thread's buttons; their submissions come back by callback id. */
import type { ModalView } from '@slack/types';
import { encodeValue, VIEWS } from './actions.js';
import { section } from './blocks.js';
import { code, inline, plain } from './escape.js';

/** Slack's limit on modal title, submit and close texts. */
const MODAL_TEXT_MAX = 24;
export const INPUT_MAX = 2000;

function modalText(text: string) {
  return { type: 'plain_text' as const, text: plain(text, MODAL_TEXT_MAX) };
}

/** Asks the approver why; the reason is required and is posted (escaped) in the thread. */
export function rejectModal(runId: string, gate: string, runTitle: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.reject,
    private_metadata: encodeValue([runId, gate]),
    title: modalText('Reject run'),
    submit: modalText('Reject'),
    close: modalText('Cancel'),
    blocks: [
      section(
        'reject:what',
        `Rejecting *${inline(runTitle, 300)}* (run ${code(runId, 40)}, gate ${code(gate, 64)}).`,
      ),
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'Reason' },
        hint: { type: 'plain_text', text: 'Posted in the run’s thread for everyone to see.' },
        element: { type: 'plain_text_input', action_id: 'reason', multiline: true, max_length: INPUT_MAX },
      },
    ],
  };
}

/** Ticks a manual item with an optional note (what was checked, a ticket link). */
export function tickNoteModal(runId: string, key: string, itemTitle: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.tickNote,
    private_metadata: encodeValue([runId, key]),
    title: modalText('Mark done'),
    submit: modalText('Done'),
    close: modalText('Cancel'),
    blocks: [
      section('tick:what', `Marking *${inline(itemTitle, 300)}* done (run ${code(runId, 40)}).`),
      {
        type: 'input',
        block_id: 'note',
        optional: true,
        label: { type: 'plain_text', text: 'Note' },
        element: { type: 'plain_text_input', action_id: 'note', multiline: true, max_length: INPUT_MAX },
      },
    ],
  };
}

/** Expiries offered for a waiver, in ms: a waiver is a loan against the checklist, never forever. */
export const WAIVER_EXPIRIES: ReadonlyArray<[label: string, ms: number]> = [
  ['1 hour', 3_600_000],
  ['4 hours', 4 * 3_600_000],
  ['24 hours', 86_400_000],
  ['7 days', 7 * 86_400_000],
];

/** Waives a failed or inconclusive item: a reason and an expiry are required; the result stays visible. */
export function waiveModal(runId: string, key: string, itemTitle: string): ModalView {
  const option = ([label, ms]: readonly [string, number]) => ({
    text: { type: 'plain_text' as const, text: label },
    value: String(ms),
  });
  return {
    type: 'modal',
    callback_id: VIEWS.waive,
    private_metadata: encodeValue([runId, key]),
    title: modalText('Waive item'),
    submit: modalText('Waive'),
    close: modalText('Cancel'),
    blocks: [
      section(
        'waive:what',
        `Waiving *${inline(itemTitle, 300)}* (run ${code(runId, 40)}). Its result stays in the thread and the report.`,
      ),
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'Reason' },
        element: { type: 'plain_text_input', action_id: 'reason', multiline: true, max_length: INPUT_MAX },
      },
      {
        type: 'input',
        block_id: 'expiry',
        label: { type: 'plain_text', text: 'Expires after' },
        element: {
          type: 'static_select',
          action_id: 'expiry',
          initial_option: option(WAIVER_EXPIRIES[1]!),
          options: WAIVER_EXPIRIES.map(option),
        },
      },
    ],
  };
}
