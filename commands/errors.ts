import { describeError, ErrorCode, isCoded } from '../src/errors.js';
import { isStoreDown } from '../src/store/mongo.js';

/** The sentence a user sees when something behind the bot is down or refused; never a stack trace. */
export function userMessage(err: unknown): string {
  if (isCoded(err, ErrorCode.QueueUnavailable))
    return ':warning: The run queue is unavailable right now — try again in a moment.';
  if (isCoded(err, ErrorCode.StoreUnavailable) || isStoreDown(err))
    return ':warning: The run store (MongoDB) is unavailable right now — nothing was changed; try again in a moment.';
  if (isCoded(err)) return `:warning: ${err.message}`;
  return `:warning: Something went wrong (${describeError(err).slice(0, 200)}). Nothing was changed.`;
}
