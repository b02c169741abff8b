// The server starts with the same node options everywhere: npm start, the container image and the bench.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/paths.js';

function npmStart(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.trim().split(/\s+/);
}

function dockerCmd(): string[] {
  const dockerfile = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
  const line = dockerfile.split('\n').find((l) => l.startsWith('CMD '));
  if (!line) throw new Error('the Dockerfile has no CMD');
  return JSON.parse(line.slice('CMD '.length)) as string[];
}

describe('the start command', function () {
  it('is node, its options and the compiled entry point', function () {
    const words = npmStart();
    expect(words[0]).to.equal('node');
    expect(words[words.length - 1]).to.equal('dist/src/main.js');
  });

  it('is the same in the container image as in npm start', function () {
    expect(dockerCmd()).to.deep.equal(npmStart());
  });

  it('has only options this Node accepts', function () {
    // An unknown option makes node (or V8) refuse to start.
    const { status, stderr } = spawnSync(process.execPath, [...npmStart().slice(1, -1), '-e', '0'], { encoding: 'utf8' });
    expect(status, stderr).to.equal(0);
    expect(stderr).to.equal('');
  });
});
