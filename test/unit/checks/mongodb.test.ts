import net from 'node:net';
import { BSON, type Document, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import mongodb, { indexProblems, parseMongoUri } from '../../../src/checks/mongodb.js';
import type { CheckOutcome } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';
import { mongoKind, mongoUri, skipUnless, uniqueName } from '../../helpers/services.js';

const run = (params: Record<string, unknown>, timeoutMs = 5_000): Promise<CheckOutcome> =>
  mongodb.run(mongodb.params.parse(params), makeContext({ timeoutMs }));

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

/**
 * Just enough of the MongoDB wire protocol to behave like an auth-enabled mongod towards an
 * unauthenticated client: hello, ping and buildInfo answer; every other command is refused
 * with code 13 Unauthorized. FerretDB in the test setup does not enforce auth, so this is
 * the only local way to exercise requireAuth's pass path.
 */
function fakeAuthEnabledMongod(commandsSeen: string[]): net.Server {
  const reply = (cmd: Document): Document => {
    const name = Object.keys(cmd)[0] ?? '';
    commandsSeen.push(name);
    switch (name.toLowerCase()) {
      case 'hello':
      case 'ismaster':
        return {
          ismaster: true,
          isWritablePrimary: true,
          helloOk: true,
          maxBsonObjectSize: 16 * 1024 * 1024,
          maxMessageSizeBytes: 48_000_000,
          maxWriteBatchSize: 100_000,
          localTime: new Date(),
          logicalSessionTimeoutMinutes: 30,
          connectionId: 1,
          minWireVersion: 0,
          maxWireVersion: 21,
          readOnly: false,
          ok: 1,
        };
      case 'ping':
      case 'endsessions':
        return { ok: 1 };
      case 'buildinfo':
        return { version: '7.0.14', versionArray: [7, 0, 14, 0], ok: 1 };
      default:
        return {
          ok: 0,
          errmsg: `command ${name} requires authentication`,
          code: 13,
          codeName: 'Unauthorized',
        };
    }
  };
  return net.createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 16 && buffered.length >= buffered.readInt32LE(0)) {
        const length = buffered.readInt32LE(0);
        const message = buffered.subarray(0, length);
        buffered = buffered.subarray(length);
        const requestId = message.readInt32LE(4);
        const opCode = message.readInt32LE(12);
        if (opCode === OP_QUERY) {
          const nameEnd = message.indexOf(0, 20);
          const doc = BSON.deserialize(message.subarray(nameEnd + 1 + 8));
          socket.write(opReply(requestId, reply(doc)));
        } else if (opCode === OP_MSG) {
          // flagBits (4 bytes), then section kind 0 (1 byte) holding the command document.
          const doc = BSON.deserialize(message.subarray(21, 21 + message.readInt32LE(21)));
          socket.write(opMsg(requestId, reply(doc)));
        } else {
          socket.destroy();
        }
      }
    });
  });
}

function header(length: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(1, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

function opReply(responseTo: number, doc: Document): Buffer {
  const body = Buffer.from(BSON.serialize(doc));
  const fields = Buffer.alloc(20);
  fields.writeInt32LE(1, 16); // numberReturned; flags, cursorId and startingFrom stay 0
  return Buffer.concat([header(16 + 20 + body.length, responseTo, OP_REPLY), fields, body]);
}

function opMsg(responseTo: number, doc: Document): Buffer {
  const body = Buffer.from(BSON.serialize(doc));
  const prefix = Buffer.from([0, 0, 0, 0, 0]); // flagBits 0, section kind 0
  return Buffer.concat([header(16 + 5 + body.length, responseTo, OP_MSG), prefix, body]);
}

describe('parseMongoUri', () => {
  it('strips credentials and auth options, keeps hosts and other options', () => {
    const parsed = parseMongoUri(
      'mongodb://app%40x:p%2Fss@db1.example.com:27017,db2.example.com,[::1]:27018/prod?replicaSet=rs0&authSource=admin&tls=true',
    );
    expect(parsed.display).toBe('db1.example.com:27017,db2.example.com:27017,[::1]:27018');
    expect(parsed.withoutCredentials).toBe(
      'mongodb://db1.example.com:27017,db2.example.com,[::1]:27018/prod?replicaSet=rs0&tls=true',
    );
    expect(parsed.database).toBe('prod');
    expect(parseMongoUri('mongodb+srv://u:p@cluster0.abc.mongodb.net/?retryWrites=true')).toMatchObject({
      srv: true,
      display: 'cluster0.abc.mongodb.net (srv)',
      withoutCredentials: 'mongodb+srv://cluster0.abc.mongodb.net/?retryWrites=true',
    });
  });
});

describe('indexProblems', () => {
  const actual = [
    { v: 2, key: { _id: 1 }, name: '_id_' },
    { v: 2, key: { companyId: 1, createdAt: -1 }, name: 'companyId_1_createdAt_-1' },
    { v: 2, key: { email: 1 }, name: 'email_1' },
  ];

  it('matches keys in order, and checks unique and name when given', () => {
    expect(indexProblems('calllogs', [{ key: { companyId: 1, createdAt: -1 } }], actual)).toEqual([]);
    expect(
      indexProblems(
        'calllogs',
        [
          { key: { createdAt: -1, companyId: 1 } },
          { key: { email: 1 }, unique: true },
          { key: { email: 1 }, name: 'by_email' },
          { key: { _id: 1 }, unique: false },
        ],
        actual,
      ),
    ).toEqual([
      'calllogs: missing { createdAt: -1, companyId: 1 }',
      'calllogs: { email: 1 } exists but is not unique',
      'calllogs: { email: 1 } is named "email_1", expected "by_email"',
    ]);
  });
});

describe.skipIf(skipUnless('mongodb'))(`mongodb probe against ${mongoKind()}`, () => {
  const uri = mongoUri()!;
  const database = uniqueName('dc-mongo-probe');
  let admin: MongoClient;

  beforeAll(async () => {
    admin = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
    const db = admin.db(database);
    await db.collection('calllogs').createIndex({ companyId: 1, createdAt: -1 });
    await db.collection('users').createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
  });
  afterAll(async () => {
    await admin.db(database).dropDatabase();
    await admin.close();
  });

  it('passes when connected, recent enough and indexed', async () => {
    const out = await run({
      uri,
      database,
      minVersion: '5.0',
      indexes: {
        calllogs: [{ key: { companyId: 1, createdAt: -1 } }],
        users: [{ key: { email: 1 }, unique: true, name: 'email_unique' }],
      },
    });
    expect(out.status).toBe('pass');
    expect(out.observed).toMatch(
      /^MongoDB \d+\.\d+\.\d+ at 127\.0\.0\.1:\d+, ping \d+\.\d ms; 2\/2 index\(es\) as expected$/,
    );
    expect(out.metrics).toMatchObject({ indexesExpected: 2, indexesMissing: 0 });
  });

  it('fails listing missing indexes per collection, and a too-old version', async () => {
    const out = await run({
      uri,
      database,
      minVersion: '99.0',
      indexes: {
        calllogs: [{ key: { companyId: 1, createdAt: -1 } }, { key: { createdAt: -1, companyId: 1 } }],
        users: [{ key: { tenantId: 1, email: 1 }, unique: true }],
        ghosts: [{ key: { a: 1 } }],
      },
    });
    expect(out.status).toBe('fail');
    expect(out.detail.split('; ')).toEqual([
      expect.stringMatching(/^version \d+\.\d+\.\d+ < 99\.0$/),
      'calllogs: missing { createdAt: -1, companyId: 1 }',
      'users: missing { tenantId: 1, email: 1 } unique',
      'ghosts: collection does not exist',
    ]);
    expect(out.metrics).toMatchObject({ indexesExpected: 4, indexesMissing: 3 });
  });

  it.skipIf(mongoKind() === 'mongodb')(
    'fails requireAuth on a server that serves unauthenticated clients',
    async () => {
      const out = await run({ uri, requireAuth: true });
      expect(out).toMatchObject({ status: 'fail', detail: 'unauthenticated listDatabases succeeded' });
    },
  );

  it('needs a database for indexes', async () => {
    const out = await run({ uri: uri.replace(/\/[^/?]*(\?|$)/, '/$1'), indexes: { a: [{ key: { b: 1 } }] } });
    expect(out.status).toBe('error');
    expect(out.detail).toContain('indexes need a database');
  });
});

describe('mongodb probe requireAuth against an auth-enabled fake', () => {
  const seen: string[] = [];
  let server: net.Server;
  let port: number;

  beforeAll(async () => {
    server = fakeAuthEnabledMongod(seen);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('passes when listDatabases without credentials is refused', async () => {
    // The fake cannot do SCRAM, so the main URI carries no credentials either; the unauthenticated check is the same.
    const out = await run({
      uri: `mongodb://127.0.0.1:${port}/?directConnection=true`,
      requireAuth: true,
      minVersion: '6.0',
    });
    expect(out.status).toBe('pass');
    expect(out.observed).toBe(
      `MongoDB 7.0.14 at 127.0.0.1:${port}, ping ${out.metrics?.pingMs?.toFixed(1)} ms; auth enforced`,
    );
    expect(seen).toContain('listDatabases');
  });

  it('is an error when indexes cannot be listed for lack of auth', async () => {
    const out = await run({
      uri: `mongodb://127.0.0.1:${port}/app?directConnection=true`,
      indexes: { a: [{ key: { b: 1 } }] },
    });
    expect(out.status).toBe('error');
    expect(out.detail).toMatch(/^listIndexes on a failed: .*requires authentication/);
  });
});

describe('mongodb probe bad inputs', () => {
  it('is an error when nothing listens, and never prints the credentials', async () => {
    const port = await freePort();
    const out = await run({ uri: `mongodb://app:S3CRET-pw@127.0.0.1:${port}/db`, connectTimeout: '300ms' });
    expect(out).toMatchObject({ status: 'error', detail: `connection refused to 127.0.0.1:${port}` });
    expect(JSON.stringify(out)).not.toMatch(/S3CRET|app:/);
  });

  it('is an error, not a hang, when the server never answers', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const out = await run({ uri: `mongodb://u:S3CRET@127.0.0.1:${port}/` }, 400);
      expect(out.status).toBe('error');
      expect(out.detail).toMatch(/timed out|Server selection timed out/);
      expect(JSON.stringify(out)).not.toContain('S3CRET');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('refuses the cloud metadata address before connecting', async () => {
    const out = await run({ uri: 'mongodb://169.254.169.254:27017/' });
    expect(out.status).toBe('error');
    expect(out.detail).toContain('link-local');
  });

  it('is an error when a host does not resolve', async () => {
    const out = await run({ uri: 'mongodb://nope.invalid:27017/' });
    expect(out.status).toBe('error');
    expect(out.detail).toMatch(/^DNS lookup failed for nope\.invalid/);
  });

  it('rejects bad params', () => {
    expect(mongodb.params.safeParse({ uri: 'postgres://x' }).success).toBe(false);
    expect(mongodb.params.safeParse({ uri: 'mongodb://x', minVersion: 'six' }).success).toBe(false);
    expect(mongodb.params.safeParse({ uri: 'mongodb://x', indexes: { a: [{ key: {} }] } }).success).toBe(
      false,
    );
    expect(
      mongodb.params.safeParse({ uri: 'mongodb://x', indexes: { a: [{ key: { b: 2 } }] } }).success,
    ).toBe(false);
    expect(mongodb.params.safeParse({ uri: 'mongodb://x', requireAuth: true, typo: 1 }).success).toBe(false);
  });

  it('accepts a secret reference at load time, and checks the resolved value at run time', async () => {
    expect(mongodb.params.safeParse({ uri: '$' + '{secret:MONGODB_URI}' }).success).toBe(true);
    const out = await mongodb.run({ uri: 'postgres://u:SECRET@h/db' } as never, makeContext());
    expect(out).toMatchObject({
      status: 'error',
      detail: 'the uri is not a valid mongodb:// connection string',
    });
    expect(JSON.stringify(out)).not.toContain('SECRET');
  });
});
