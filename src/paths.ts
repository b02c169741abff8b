// Locates the project's folders whether running from src/ (tsx) or dist/src/ (compiled).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${start}`);
    dir = parent;
  }
  return dir;
}

/** The folder that holds package.json, views/ and migrations/. */
export const projectRoot = findRoot(path.dirname(fileURLToPath(import.meta.url)));
export const viewsDir = path.join(projectRoot, 'views');
/** Migrations next to the running code: migrations/*.ts under tsx, dist/migrations/*.js when compiled. */
export const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');
