/**
 * Redis connections from a `--queue redis://host:port[/db]` URL: checked once, with a
 * short timeout, so an unreachable or mistyped URL is one clear error instead of a
 * client retrying forever; after that, BullMQ's usual reconnecting client.
 */

import { Redis } from "ioredis";
import { QueueConnectionError } from "./errors.js";

/** Parse and check a Redis URL (redis:// or rediss://, a host, a port if any). */
export function parseRedisUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new QueueConnectionError(`--queue expects a Redis URL such as redis://127.0.0.1:6379, found ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new QueueConnectionError(`--queue expects a redis:// or rediss:// URL, found ${JSON.stringify(redactUrl(text))}`);
  }
  if (url.hostname === "") throw new QueueConnectionError(`--queue ${redactUrl(text)}: the URL names no host`);
  return url;
}

/** The URL with any password replaced by ***, for messages. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return text;
  }
}

export interface ConnectOptions {
  /** How long the first connection may take (default 3,000 ms). */
  timeoutMs?: number;
}

/**
 * A connected client for BullMQ (maxRetriesPerRequest null, as workers require), or a
 * QueueConnectionError naming the URL and the cause.
 */
export async function connectRedis(text: string, options: ConnectOptions = {}): Promise<Redis> {
  parseRedisUrl(text);
  const timeoutMs = options.timeoutMs ?? 3_000;
  const client = new Redis(text, { lazyConnect: true, maxRetriesPerRequest: null, connectTimeout: timeoutMs, retryStrategy: () => null });
  client.on("error", () => {}); // reported through connect() below, or by BullMQ later
  try {
    await withTimeout(client.connect(), timeoutMs);
    await withTimeout(client.ping(), timeoutMs);
  } catch (error) {
    client.disconnect();
    throw new QueueConnectionError(`cannot reach Redis at ${redactUrl(text)}: ${(error as Error).message || String(error)} (is redis-server running there? see foliosim worker --help)`);
  }
  // Connected: from now on ride out short outages like any BullMQ client.
  client.options.retryStrategy = (times: number) => Math.min(200 * times, 2_000);
  return client;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
