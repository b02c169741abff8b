// compileTemplates: every view compiled at start in a worker; a broken one stops the start, naming the file.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { projectRoot, viewsDir } from '../../src/paths.js';
import { compileTemplates, TemplateError } from '../../src/templates.js';
import { useTempDir } from '../helpers/temp-dir.js';

describe('compileTemplates', function () {
  const scratch = useTempDir('twofold-templates-', { each: true });

  it('compiles every view, with layouts and includes from other folders, and escapes values', async function () {
    await mkdir(path.join(scratch(), 'pages'));
    await writeFile(path.join(scratch(), 'layout.pug'), 'html\n  body\n    include /_banner\n    block content\n');
    await writeFile(path.join(scratch(), '_banner.pug'), 'header= title\n');
    await writeFile(path.join(scratch(), 'pages', 'hello.pug'), 'extends /layout\nblock content\n  p Hello #{name}\n');
    const templates = await compileTemplates(scratch());
    expect(templates.get('pages/hello.pug')({ title: 'Welcome', name: '<b>Ann</b>' })).to.equal('<html><body><header>Welcome</header><p>Hello &lt;b&gt;Ann&lt;/b&gt;</p></body></html>');
    expect(templates.get(path.join(scratch(), 'pages', 'hello.pug'))).to.equal(templates.get('pages/hello.pug'));
  });

  it('refuses to start with a view that does not compile, naming each broken file', async function () {
    await writeFile(path.join(scratch(), 'good.pug'), 'p fine\n');
    await writeFile(path.join(scratch(), 'bad.pug'), 'p= (\n');
    await writeFile(path.join(scratch(), 'missing-include.pug'), 'include nowhere\n');
    const failure = await compileTemplates(scratch()).then(() => undefined, (err: unknown) => err);
    expect(failure).to.be.instanceOf(TemplateError);
    expect((failure as Error).message).to.match(/^these templates do not compile:\n/);
    expect((failure as Error).message).to.match(/\n {2}bad\.pug: /);
    expect((failure as Error).message).to.match(/\n {2}missing-include\.pug: .*nowhere/);
    expect((failure as Error).message).not.to.include('good.pug');
  });

  it('says which template is not there', async function () {
    await writeFile(path.join(scratch(), 'one.pug'), 'p one\n');
    const templates = await compileTemplates(scratch());
    expect(() => templates.get('two.pug')).to.throw(TemplateError, /no template two\.pug under /);
  });

  it('compiles all of the project views without loading the compiler into the calling process', async function () {
    this.timeout(30_000);
    // A separate process, as this one has loaded pug for other tests.
    const script = `
      import { createRequire } from 'node:module';
      import { compileTemplates } from './src/templates.ts';
      const templates = await compileTemplates(${JSON.stringify(viewsDir)});
      templates.get('login/login.pug');
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((file) => /node_modules\\/(pug|@babel)\\//.test(file));
      console.log(JSON.stringify(loaded));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: projectRoot });
    expect(JSON.parse(stdout)).to.deep.equal([]);
  });
});
