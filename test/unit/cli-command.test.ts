// The CLI's argument parsing: a positional of a declared form is read as such even when it begins with '-'.
import { expect } from 'chai';
import { defineCommand, OK } from '../../src/cli/command.js';
import { TOKEN_REFERENCE_FORM } from '../../src/clients/issue-initial-access-token.js';

const output = { out: () => undefined, err: () => undefined };

function command(form?: RegExp) {
  const seen: string[][] = [];
  const run = defineCommand({ name: 'test revoke', usage: 'Usage: test revoke REFERENCE', positionals: { min: 1, max: 1, names: 'REFERENCE', ...(form ? { form } : {}) } },
    async ({ positionals }) => {
      seen.push([...positionals]);
      return OK;
    });
  return { seen, run: (args: string[]) => run(args, { output }) };
}

describe('CLI command arguments', function () {
  it('takes a token reference that begins with a dash as the reference, not as options', async function () {
    const { seen, run } = command(TOKEN_REFERENCE_FORM);
    expect(await run(['-xYz_0123456'])).to.equal(OK);
    expect(await run(['--bcdefghijk'])).to.equal(OK);
    expect(seen).to.deep.equal([['-xYz_0123456'], ['--bcdefghijk']]);
  });

  it('still reads options and refuses unknown ones around such a reference', async function () {
    const { seen, run } = command(TOKEN_REFERENCE_FORM);
    expect((await run(['-xYz_0123456', '--help']))).to.equal(OK);
    expect(seen, '--help prints the usage and runs nothing').to.deep.equal([]);
    const unknown = await run(['-xYz_0123456', '--force']);
    expect(unknown).to.have.property('status', 'USER_ERROR');
    expect((unknown as { message: string }).message).to.contain("Unknown option '--force'");
  });

  it('reads a dash-led argument as options where no form is declared', async function () {
    const { run } = command();
    const result = await run(['-xYz_0123456']);
    expect(result).to.have.property('status', 'USER_ERROR');
    expect((result as { message: string }).message).to.match(/Unknown option '-x'/);
  });
});
