#!/usr/bin/env node
// The `twofold` command: runs the compiled CLI (npm run build), or else the TypeScript source through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);

if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else if (existsSync(fileURLToPath(source)) && (await registerTsx())) {
  await import(source.href);
} else {
  process.stderr.write('twofold: the CLI is not built; run `npm run build` in the Twofold folder first.\n');
  process.exitCode = 1;
}

/** Registers tsx's loader so .ts files can be imported; false when tsx (a dev dependency) is not installed. */
async function registerTsx() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch {
    return false;
  }
}
