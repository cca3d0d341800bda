import type {
  AllMiddlewareArgs,
  App,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import { DeployCheckError, ErrorCode } from '../errors.js';

export type ButtonListener = (
  args: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs,
) => Promise<void>;
export type ViewListener = (
  args: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs,
) => Promise<void>;

/** A pattern matching exactly these ids, so Bolt hands us nothing else (and leaves the rest unacked, as before). */
function exactly(ids: Iterable<string>): RegExp {
  return new RegExp(`^(?:${[...ids].map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
}

/**
 * The bot's buttons and modal submissions, each by its action id or callback id, mounted on Bolt as
 * one action listener and one view listener. Bolt runs the middleware chain of every listener it
 * has for every request it receives — slash commands included — so 17 listeners cost each request
 * 17 chains; one per kind dispatches through a map instead.
 */
export class Interactions {
  readonly #buttons = new Map<string, ButtonListener>();
  readonly #views = new Map<string, ViewListener>();

  button(actionId: string, listener: ButtonListener): void {
    this.#claim(this.#buttons, actionId, listener);
  }

  view(callbackId: string, listener: ViewListener): void {
    this.#claim(this.#views, callbackId, listener);
  }

  /** The action ids and callback ids listened to (what manifest.yml's interactivity must route). */
  ids(): { actions: string[]; views: string[] } {
    return { actions: [...this.#buttons.keys()], views: [...this.#views.keys()] };
  }

  mount(app: App): void {
    const buttons = this.#buttons;
    const views = this.#views;
    if (buttons.size)
      app.action<BlockAction<ButtonAction>>(
        { type: 'block_actions', action_id: exactly(buttons.keys()) },
        (args) => buttons.get(args.action.action_id)!(args),
      );
    if (views.size)
      app.view<ViewSubmitAction>({ type: 'view_submission', callback_id: exactly(views.keys()) }, (args) =>
        views.get(args.view.callback_id)!(args),
      );
  }

  #claim<L>(table: Map<string, L>, id: string, listener: L): void {
    if (table.has(id))
      throw new DeployCheckError(ErrorCode.Conflict, `two listeners for the Slack id "${id}"`);
    table.set(id, listener);
  }
}
