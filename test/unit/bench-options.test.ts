// The bench's command line: the reference run's turns, and clear refusals of what it cannot use.
import { expect } from 'chai';
import { parseOptions, REFERENCE_TURN, UsageError } from '../../bench/options.js';

describe('bench options', function () {
  it('runs --reference in five 6-second turns per server by default, in alternation', function () {
    expect(parseOptions(['--reference'])).to.deep.include({ kind: 'reference', concurrency: 8, seconds: 6, repeat: 5 });
    expect(REFERENCE_TURN).to.deep.equal({ seconds: 6, repeat: 5 });
  });

  it('takes other turns for --reference when asked', function () {
    expect(parseOptions(['--reference', '--seconds', '15', '--repeat', '2', '--concurrency', '4'])).to.deep.include({ seconds: 15, repeat: 2, concurrency: 4 });
  });

  it('keeps the full run at 12-second runs and two passes', function () {
    expect(parseOptions([])).to.deep.include({ kind: 'scenarios', quick: false, concurrency: [1, 8, 32], seconds: 12, repeat: 2 });
  });

  it('refuses what a reference run cannot use, saying what to leave out', function () {
    expect(() => parseOptions(['--reference', '--quick'])).to.throw(UsageError, /leave out --quick/);
    expect(() => parseOptions(['--reference', '--concurrency', '1,8'])).to.throw(UsageError, /one number/);
    expect(() => parseOptions(['--reference', '--repeat', '6'])).to.throw(UsageError, /--repeat/);
  });
});
