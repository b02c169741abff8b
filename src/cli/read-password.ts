// Reads a new password: typed twice at a terminal without echo, or piped in with --password-stdin.
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { PASSWORD_MAX_LENGTH } from '../security/passwords.js';
import { userError, type CommandResult } from './command.js';

export type PasswordReading =
  | { status: 'OK'; password: string }
  | { status: 'NO_TERMINAL' }
  | { status: 'MISMATCH' }
  | { status: 'TOO_LONG' }
  | { status: 'CANCELLED' };

export interface PasswordStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where prompts go: stderr, so stdout stays clean for --json. */
  prompt: NodeJS.WritableStream;
}

// UTF-8 needs at most 4 bytes a character, plus a CRLF: anything longer is too long whatever it holds.
const MAX_STDIN_BYTES = PASSWORD_MAX_LENGTH * 4 + 2;

/** Reads a new password from standard input (`fromStdin`) or by prompting twice at the terminal. */
export async function readNewPassword(streams: PasswordStreams, options: { fromStdin: boolean }): Promise<PasswordReading> {
  if (options.fromStdin) return readPasswordFromStdin(streams.input);
  // Without a terminal the typed password would be echoed or read from somewhere unexpected: refuse.
  if (!streams.input.isTTY) return { status: 'NO_TERMINAL' };
  const first = await askHidden(streams, 'Password: ');
  if (first === undefined) return { status: 'CANCELLED' };
  const second = await askHidden(streams, 'Repeat the password: ');
  if (second === undefined) return { status: 'CANCELLED' };
  return first === second ? { status: 'OK', password: first } : { status: 'MISMATCH' };
}

/** Reads all of `input` as UTF-8 and strips one trailing newline (as `echo` or a file adds). */
export async function readPasswordFromStdin(input: NodeJS.ReadableStream): Promise<PasswordReading> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    // Bounded, so piping a large file by mistake does not fill memory.
    if (size > MAX_STDIN_BYTES) return { status: 'TOO_LONG' };
    chunks.push(buffer);
  }
  return { status: 'OK', password: Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '') };
}

/** Asks one question at the terminal without echoing the answer; undefined on Ctrl-C or Ctrl-D. */
function askHidden(streams: PasswordStreams, question: string): Promise<string | undefined> {
  streams.prompt.write(question);
  // readline echoes what is typed to its output; giving it a sink that drops everything hides the password.
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  // historySize 0: the password is not kept in readline's in-memory history.
  const rl = readline.createInterface({ input: streams.input, output: sink, terminal: true, historySize: 0 });
  return new Promise((resolve) => {
    let answered = false;
    const finish = (answer: string | undefined) => {
      if (answered) return;
      answered = true;
      streams.prompt.write('\n');
      rl.close();
      resolve(answer);
    };
    rl.on('SIGINT', () => finish(undefined));
    rl.on('close', () => finish(undefined));
    rl.question('', (answer) => finish(answer));
  });
}

/** What to answer for a reading that gave no password (undefined when it did), for `command`. */
export function passwordProblem(reading: PasswordReading, command: 'users add' | 'users set-password'): CommandResult | undefined {
  switch (reading.status) {
    case 'OK':
      return undefined;
    case 'CANCELLED':
      return { status: 'CANCELLED' };
    case 'MISMATCH':
      return userError(`twofold ${command}: the two passwords differ; nothing was ${command === 'users add' ? 'created' : 'changed'}`);
    case 'TOO_LONG':
      return userError(`twofold ${command}: the password read from standard input is too long`);
    case 'NO_TERMINAL':
      return userError(`twofold ${command}: there is no terminal to ask for the password; pipe it in with --password-stdin`);
  }
}
