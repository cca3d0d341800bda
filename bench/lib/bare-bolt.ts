/**
 * The reference for bench/ack-path.ts: a bare Bolt 5 app with the same Web API fake as our bot,
 * whose `/deploy-check` command and `dc_tick` button only ack. On Bolt's stock HTTPReceiver, or
 * with BARE_RECEIVER=ours on our receiver (src/slack/receiver.ts: our signature check, sized acks).
 * Run as a child process (forked by the benchmark); reports `{ ready, port }` over IPC.
 */
import { App, HTTPReceiver } from '@slack/bolt';
import { pino } from 'pino';
import { SignedHTTPReceiver } from '../../src/slack/receiver.js';
import { silentSlackLogger } from '../../test/helpers/slack-fake.js';

const signingSecret = process.env.SLACK_SIGNING_SECRET!;
const receiver =
  process.env.BARE_RECEIVER === 'ours'
    ? new SignedHTTPReceiver({ signingSecret, logger: silentSlackLogger, log: pino({ level: 'silent' }) })
    : new HTTPReceiver({ signingSecret, logger: silentSlackLogger });
const app = new App({
  token: process.env.SLACK_BOT_TOKEN!,
  receiver,
  logger: silentSlackLogger,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL! },
});
app.command('/deploy-check', async ({ ack }) => {
  await ack();
});
app.action('dc_tick', async ({ ack }) => {
  await ack();
});

const server = (await app.start(0)) as import('node:http').Server;
const { port } = server.address() as import('node:net').AddressInfo;
process.send?.({ ready: true, port });
process.once('SIGTERM', () => {
  void app.stop().then(() => process.exit(0));
});
