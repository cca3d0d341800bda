/**
 * Pure Block Kit renderers: a run's derived state in, Slack messages and modals out. No I/O and
 * no clock (callers pass `now`), so the same view always renders byte-identical messages and the
 * thread writer can skip updates that would change nothing.
 */
export type { SlackMessage } from './blocks.js';
export { rejectModal, tickNoteModal, WAIVER_EXPIRIES, waiveModal } from './modals.js';
export { renderParent } from './parent.js';
export { renderPhase } from './phase.js';
export { renderHelp, renderNotice, renderRunList, renderStatus, renderUsage } from './replies.js';
export { renderSignoff } from './signoff.js';
