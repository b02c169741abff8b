// Every pug template under views/, compiled once at start in a short-lived worker thread.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export type Template = (locals: Record<string, unknown>) => string;

export interface Templates {
  /** The template at `file`, relative to the views folder (`mail/code/html.pug`) or absolute; throws for one that is not there. */
  get(file: string): Template;
}

/** A template that does not compile: the server does not start with it. */
export class TemplateError extends Error {}

interface Compiled {
  file: string;
  source?: string;
  error?: string;
}

// Runs in the worker: compiles each .pug file to the source of a standalone function (pug's runtime inlined).
// Dynamic imports only, so that it runs whether Node takes eval'd code as CommonJS or (--input-type=module) not.
const WORKER = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { default: pug } = await import(workerData.pug);
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.pug')) files.push(file);
    }
  };
  walk(workerData.dir);
  parentPort.postMessage(files.map((file) => {
    try {
      const options = { filename: file, basedir: workerData.dir, compileDebug: false, name: 'template' };
      return { file, source: pug.compileClient(fs.readFileSync(file, 'utf8'), options) };
    } catch (err) {
      return { file, error: err.message };
    }
  }));
})();
`;

/**
 * Compiles every template under `viewsDir`. The compiler (pug with Babel's parser) runs in a worker that ends
 * when it is done, so it never joins the server's heap: about 9 MB less live heap, which V8 lets grow several
 * times over under load before it collects. A template that does not compile fails the start, naming the file.
 */
export async function compileTemplates(viewsDir: string): Promise<Templates> {
  const dir = path.resolve(viewsDir);
  const pug = pathToFileURL(createRequire(import.meta.url).resolve('pug')).href;
  const compiled = await new Promise<Compiled[]>((resolve, reject) => {
    // No inherited loaders or flags: the worker's code is plain JavaScript.
    const worker = new Worker(WORKER, { eval: true, workerData: { dir, pug }, execArgv: [] });
    worker.once('message', (message: Compiled[]) => {
      resolve(message);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new TemplateError(`the template compiler stopped (exit code ${code}) before it was done`)));
  });
  const broken = compiled.filter((c) => c.error !== undefined);
  if (broken.length) {
    throw new TemplateError(`these templates do not compile:\n${broken.map((c) => `  ${path.relative(dir, c.file)}: ${c.error}`).join('\n')}`);
  }
  const templates = new Map<string, Template>(compiled.map((c) => [c.file, new Function(`${c.source}\nreturn template;`)() as Template]));
  return {
    get(file) {
      const template = templates.get(path.resolve(dir, file));
      if (!template) throw new TemplateError(`no template ${file} under ${dir}`);
      return template;
    },
  };
}
