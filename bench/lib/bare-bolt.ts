/**
 * The reference for bench/ack-path.ts: a bare Bolt 5 app with the same HTTPReceiver and the same
 * Web API fake as our bot, whose `/deploy-check` command and `dc_tick` button only ack.
 * Run as a child process (forked by the benchmark); reports `{ ready, port }` over IPC.
 */
import { App, HTTPReceiver, type Logger, LogLevel } from '@slack/bolt';

const silent: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

const signingSecret = process.env.SLACK_SIGNING_SECRET!;
const receiver = new HTTPReceiver({ signingSecret, logger: silent });
const app = new App({
  token: process.env.SLACK_BOT_TOKEN!,
  receiver,
  logger: silent,
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
