// A scratch folder for a mocha suite: made before, removed after (each test's own, or one for the whole suite).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Registers the hooks that make and remove the folder; the returned function gives its path inside tests. */
export function useTempDir(prefix: string, options: { each?: boolean } = {}): () => string {
  let dir: string | undefined;
  const [make, remove] = options.each ? [beforeEach, afterEach] : [before, after];
  make(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  });
  remove(async function () {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return () => {
    if (!dir) throw new Error('the scratch folder exists only inside the suite\'s tests and hooks');
    return dir;
  };
}
