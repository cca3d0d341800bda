import { type Collection, type Db, MongoClient, MongoServerError } from 'mongodb';
import { DeployCheckError, describeError, ErrorCode } from '../errors.js';

export interface MongoHandle {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

/** Connects with bounded timeouts, so a down server gives a sentence instead of a hang. */
export async function connectMongo(
  uri: string,
  dbName: string,
  opts: { timeoutMs?: number } = {},
): Promise<MongoHandle> {
  const timeout = opts.timeoutMs ?? 5000;
  const client = new MongoClient(uri, {
    appName: 'deploy-check',
    serverSelectionTimeoutMS: timeout,
    connectTimeoutMS: timeout,
    socketTimeoutMS: 30_000,
    maxPoolSize: 20,
  });
  try {
    await client.connect();
    const db = client.db(dbName);
    await db.command({ ping: 1 });
    return { client, db, close: () => client.close() };
  } catch (err) {
    await client.close().catch(() => undefined);
    throw storeUnavailable(err);
  }
}

export function storeUnavailable(err: unknown): DeployCheckError {
  return new DeployCheckError(
    ErrorCode.StoreUnavailable,
    `the run store (MongoDB) is unavailable: ${describeError(err)}`,
    { cause: err },
  );
}

export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}

/**
 * Inserts a document whose unique `_id` is a fact: true for the one caller that made it, false
 * when it already existed (race-free without any atomic read-modify-write).
 */
export async function insertFact<T extends { _id: string }>(
  collection: Collection<T>,
  doc: T,
): Promise<boolean> {
  try {
    await collection.insertOne(doc as never);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/** Errors that mean "the database is not there right now", as opposed to a bug in our query. */
export function isStoreDown(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? '';
  return /MongoServerSelectionError|MongoNetworkError|MongoNetworkTimeoutError|MongoTopologyClosedError|MongoNotConnectedError|PoolClearedError/.test(
    name,
  );
}
