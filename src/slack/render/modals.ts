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
