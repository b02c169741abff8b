// Mocha reporter for CI: the usual spec output, plus mocha's own counts written as JSON for the summary line.
import { writeFileSync } from 'node:fs';
import Mocha from 'mocha';

const { Spec } = Mocha.reporters;

export default class CiReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    const output = options?.reporterOption?.output ?? process.env.MOCHA_STATS_FILE;
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      if (output) writeFileSync(output, JSON.stringify(this.stats));
    });
  }
}
