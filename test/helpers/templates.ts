// The project's views, compiled once for the whole test run as the server compiles them at start.
import { viewsDir } from '../../src/paths.js';
import { compileTemplates, type Templates } from '../../src/templates.js';

let compiled: Promise<Templates> | undefined;

export function viewTemplates(): Promise<Templates> {
  compiled ??= compileTemplates(viewsDir);
  return compiled;
}
