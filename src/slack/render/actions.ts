/**
 * The contract between the rendered messages and the interaction handlers: action ids, modal
 * callback ids and how button values / private_metadata carry their arguments.
 */

export const ACTIONS = {
  tick: 'dc_tick',
  tickNote: 'dc_tick_note',
  approve: 'dc_approve',
  reject: 'dc_reject',
  rerun: 'dc_rerun',
  deployed: 'dc_deployed',
  rollback: 'dc_rollback_start',
  waive: 'dc_waive',
} as const;

export type ActionId = (typeof ACTIONS)[keyof typeof ACTIONS];

export const VIEWS = {
  reject: 'dc_reject_modal',
  tickNote: 'dc_tick_modal',
  waive: 'dc_waive_modal',
} as const;

/** Slack's limit on a button's value. */
export const VALUE_MAX = 2000;

const SEPARATOR = '|';

// Run ids, item keys and gate ids never contain '|' or '%', so values stay readable ("r-abc|smoke/ping");
// escaping only keeps a stray one from shifting the parts.
function escapePart(part: string): string {
  return part.replace(/%/g, '%25').replace(/\|/g, '%7C');
}

function unescapePart(part: string): string {
  return part.replace(/%(25|7C)/gi, (escaped) => (escaped === '%25' ? '%' : SEPARATOR));
}

/** Joins parts with '|' (e.g. `r-abc234defg|smoke/health`); throws RangeError past Slack's 2000 characters. */
export function encodeValue(parts: readonly string[]): string {
  const value = parts.map(escapePart).join(SEPARATOR);
  if (value.length > VALUE_MAX)
    throw new RangeError(`action value is ${value.length} characters; Slack allows ${VALUE_MAX}`);
  return value;
}

/** The parts `encodeValue` joined. */
export function decodeValue(value: string): string[] {
  return value.split(SEPARATOR).map(unescapePart);
}

/** The value, or undefined when it cannot fit: a renderer then leaves the button out rather than fail. */
export function tryEncodeValue(parts: readonly string[]): string | undefined {
  try {
    return encodeValue(parts);
  } catch {
    return undefined;
  }
}
