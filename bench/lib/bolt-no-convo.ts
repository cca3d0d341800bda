/**
 * What-if stand-in for `@slack/bolt` as src/slack/app.ts imports it (bench/lib/whatif-hooks.mjs,
 * BENCH_WHATIF=noconvo): the same package, but every App is built with `convoStore: false`.
 * Bolt's default conversation store runs on every request and, for a conversation it has never
 * seen (every one, since the bot never stores any), rejects with a new Error. The bot does not use
 * `context.conversation`, so turning it off changes nothing else.
 */
import * as bolt from '@slack/bolt';

export * from '@slack/bolt';

export class App extends bolt.App {
  constructor(options: ConstructorParameters<typeof bolt.App>[0]) {
    super({ ...options, convoStore: false });
  }
}
