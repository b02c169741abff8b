// The development outbox: without SMTP, each email is written as one JSON file under DATA_DIR/outbox/.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export interface OutboxMessage {
  id: string;
  /** ISO 8601, when the message was written. */
  date: string;
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
}

const STORED_MESSAGE = z.object({ id: z.string(), date: z.string(), to: z.string(), from: z.string(), subject: z.string(), text: z.string(), html: z.string() });

// Epoch milliseconds (13 digits, so names sort by time) and 64 random bits. Only names of this exact shape
// are ever read: an id from a URL can then never name another file (no "/", no "..", no other extension).
const ID_PATTERN = /^\d{13}-[0-9a-f]{16}$/;

/** Whether `id` has the exact shape of an outbox message id. */
export function isOutboxId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** The outbox folder inside the data folder. */
export function outboxDir(dataDir: string): string {
  return path.join(dataDir, 'outbox');
}

/** Writes one message to the outbox and returns its id and file path. */
export async function writeOutboxMessage(dataDir: string, message: Omit<OutboxMessage, 'id' | 'date'>, now = new Date()): Promise<{ id: string; file: string }> {
  const dir = outboxDir(dataDir);
  // The messages hold one-time codes: only the account running Twofold may read them (folder 0700, files 0600).
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const id = `${String(now.getTime()).padStart(13, '0')}-${randomBytes(8).toString('hex')}`;
  const file = path.join(dir, `${id}.json`);
  const stored: OutboxMessage = { id, date: now.toISOString(), ...message };
  await writeFile(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { id, file };
}

/** The newest `limit` messages of the outbox, newest first; an absent outbox is empty. */
export async function listOutbox(dataDir: string, limit = 50): Promise<OutboxMessage[]> {
  let names: string[];
  try {
    names = await readdir(outboxDir(dataDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const ids = names
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .filter(isOutboxId)
    .sort()
    .reverse()
    .slice(0, Math.max(0, limit));
  const messages = await Promise.all(ids.map((id) => readOutboxMessage(dataDir, id)));
  return messages.filter((message): message is OutboxMessage => message !== undefined);
}

/** One message of the outbox, or undefined when `id` is malformed, unknown or its file is not a message. */
export async function readOutboxMessage(dataDir: string, id: string): Promise<OutboxMessage | undefined> {
  if (!isOutboxId(id)) return undefined;
  let raw: string;
  try {
    raw = await readFile(path.join(outboxDir(dataDir), `${id}.json`), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseMessage(raw, id);
}

function parseMessage(raw: string, id: string): OutboxMessage | undefined {
  try {
    const parsed = STORED_MESSAGE.safeParse(JSON.parse(raw));
    return parsed.success && parsed.data.id === id ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
