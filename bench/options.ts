// The bench's command line: a scenario run (full or quick, one or more passes) or a faults run.
import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run bench [-- options]
  --quick               one concurrency (8), 6-second runs, one pass: about a minute
  --concurrency LIST    comma-separated virtual users per run (default 1,8,32; quick 8)
  --seconds N           length of each measured run in seconds (default 12; quick 6; reference 6)
  --repeat N            run the scenario set N times on the same server, with its RSS after each pass (default 2; quick 1;
                        reference: turns of each server, 5)
  --faults              instead of the scenarios: full sysadmin logins while Redis, then Postgres, then SMTP is cut (about a minute)
  --reference           instead of the scenarios: the full login, client_credentials and refresh_token against
                        Twofold and against a bare oidc-provider (the baseline the targets were set against), in
                        turns, and the ratio of the two for each (about 6 minutes)
  --cut-seconds N       with --faults: how long each store is cut (default 5)
  --cpu-prof DIR        run the server with node --cpu-prof, writing its profile to DIR on exit
  --help                show this help

With --faults, --concurrency is one number (default 4). With --reference, --concurrency is one number (default 8),
--seconds defaults to 6 and --repeat (turns of each server) to 5: short turns in alternation, so that the machine's
drift within the minute falls on both servers alike.`;

export type Options =
  | { kind: 'scenarios'; quick: boolean; concurrency: number[]; seconds: number; repeat: number; cpuProf: string | undefined }
  | { kind: 'faults'; concurrency: number; cutSeconds: number; cpuProf: string | undefined }
  | { kind: 'reference'; concurrency: number; seconds: number; repeat: number; cpuProf: string | undefined };

/**
 * The turns of --reference: five of 6 seconds for each server, in alternation. With two 15-second turns the machine's
 * speed could change between one server's turn and the other's (a baseline measured 4,764 and then 6,304
 * client_credentials grants per CPU-second); shorter turns spread that drift over both.
 */
export const REFERENCE_TURN = { seconds: 6, repeat: 5 } as const;

/** A bad command line: reported with the usage, exit code 2. */
export class UsageError extends Error {}

/** Parses the bench's arguments; returns 'help' for --help and throws UsageError for anything it cannot use. */
export function parseOptions(argv: string[]): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        quick: { type: 'boolean' },
        concurrency: { type: 'string' },
        seconds: { type: 'string' },
        repeat: { type: 'string' },
        faults: { type: 'boolean' },
        reference: { type: 'boolean' },
        'cut-seconds': { type: 'string' },
        'cpu-prof': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const cpuProf = values['cpu-prof'];
  const concurrency = (values.concurrency ?? '').split(',').filter((s) => s.trim()).map((s) => Number(s.trim()));
  if (concurrency.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) throw new UsageError(`--concurrency: give whole numbers from 1 to 256, comma-separated (got "${values.concurrency}")`);
  const number = (flag: string, value: string | undefined, fallback: number, min: number, max: number) => {
    const n = Number(value ?? fallback);
    if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${flag}: give a number from ${min} to ${max} (got "${value}")`);
    return n;
  };

  const whole = (flag: string, n: number) => {
    if (!Number.isInteger(n)) throw new UsageError(`--${flag}: give a whole number (got "${n}")`);
    return n;
  };

  if (values.faults && values.reference) throw new UsageError('--faults and --reference are runs of their own: choose one');
  if (values.reference) {
    const unused = (['quick', 'cut-seconds'] as const).filter((flag) => values[flag] !== undefined);
    if (unused.length) throw new UsageError(`--reference runs on its own: leave out ${unused.map((flag) => `--${flag}`).join(', ')}`);
    if (concurrency.length > 1) throw new UsageError('--concurrency: give one number with --reference');
    return {
      kind: 'reference',
      concurrency: concurrency[0] ?? 8,
      seconds: number('seconds', values.seconds, REFERENCE_TURN.seconds, 1, 120),
      repeat: whole('repeat', number('repeat', values.repeat, REFERENCE_TURN.repeat, 1, 5)),
      cpuProf,
    };
  }
  if (values.faults) {
    const unused = (['quick', 'seconds', 'repeat'] as const).filter((flag) => values[flag] !== undefined);
    if (unused.length) throw new UsageError(`--faults runs on its own: leave out ${unused.map((flag) => `--${flag}`).join(', ')}`);
    if (concurrency.length > 1) throw new UsageError('--concurrency: give one number with --faults');
    return { kind: 'faults', concurrency: concurrency[0] ?? 4, cutSeconds: number('cut-seconds', values['cut-seconds'], 5, 1, 60), cpuProf };
  }
  if (values['cut-seconds'] !== undefined) throw new UsageError('--cut-seconds goes with --faults');
  const quick = values.quick ?? false;
  return {
    kind: 'scenarios',
    quick,
    concurrency: concurrency.length ? concurrency : quick ? [8] : [1, 8, 32],
    seconds: number('seconds', values.seconds, quick ? 6 : 12, 1, 120),
    repeat: whole('repeat', number('repeat', values.repeat, quick ? 1 : 2, 1, 5)),
    cpuProf,
  };
}
