// The key for encryption at rest: SECRET_KEY, or in development one generated once into the data directory.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeKey, type Config } from '../config.js';

/** Returns SECRET_KEY, or (outside production) the key in DATA_DIR/secret.key, creating it on first start. */
export async function resolveSecretKey(config: Pick<Config, 'secretKey' | 'dataDir' | 'nodeEnv'>): Promise<{ key: Buffer; source: 'env' | 'generated' | 'data-dir' }> {
  if (config.secretKey) return { key: config.secretKey, source: 'env' };
  if (config.nodeEnv === 'production') throw new Error('SECRET_KEY is required in production');
  const file = path.join(config.dataDir, 'secret.key');
  try {
    const key = decodeKey(await readFile(file, 'utf8'));
    if (!key) throw new Error(`${file} does not hold a 32-byte key; restore it or delete it together with the data directory`);
    return { key, source: 'data-dir' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  // Readable by the owner only: whoever holds this key can decrypt client secrets and signing keys.
  await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const key = decodeKey(await readFile(file, 'utf8'));
  if (!key) throw new Error(`${file} does not hold a 32-byte key`);
  return { key, source: 'generated' };
}
