// A real SMTP server (smtp-server) on 127.0.0.1 that collects parsed messages and can be stopped, restarted or made to refuse.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type AddressObject } from 'mailparser';

export interface ReceivedMail {
  /** The From header, as written (e.g. `Twofold <no-reply@example.com>`). */
  from: string;
  /** The addresses of the To header. */
  to: string[];
  /** The addresses given to RCPT TO. */
  envelopeTo: string[];
  subject: string;
  text: string;
  html: string;
}

export type RefuseStage = 'RCPT' | 'DATA';

export interface TestSmtpServer {
  /** smtp://127.0.0.1:<port>, the same across stop() and start(). */
  url: string;
  port: number;
  /** Every message accepted so far, in order. */
  messages: ReceivedMail[];
  /** Resolves with the first message matching `predicate`, or rejects after `timeoutMs`. */
  waitFor(predicate: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** Closes the port: connections are then refused, as when the mail server is down. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** While on, answers 550 to RCPT TO (default) or 554 after DATA, as a server refusing the message does. */
  refuse(on: boolean, stage?: RefuseStage): void;
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return objects.flatMap((object) => object.value.map((entry) => entry.address ?? ''));
}

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

/** Starts the server on 127.0.0.1 and an ephemeral port. */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  let refusing: RefuseStage | undefined;
  let port = 0;
  let server: SMTPServer | undefined;

  const listen = async () => {
    const instance = new SMTPServer({
      // Plain SMTP on loopback, no login: what nodemailer does with a smtp:// URL without credentials.
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      closeTimeout: 200,
      onRcptTo(_address, _session, callback) {
        callback(refusing === 'RCPT' ? smtpError('Mailbox unavailable', 550) : null);
      },
      onData(stream, session, callback) {
        simpleParser(stream).then(
          (parsed) => {
            if (refusing === 'DATA') return callback(smtpError('Message rejected', 554));
            messages.push({
              from: parsed.from?.text ?? '',
              to: addresses(parsed.to),
              envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: parsed.html || '',
            });
            callback();
          },
          (err: Error) => callback(err),
        );
      },
    });
    instance.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      const listening = instance.listen(port, '127.0.0.1', () => resolve());
      listening.once('error', reject);
    });
    port = (instance.server.address() as AddressInfo).port;
    server = instance;
  };

  await listen();
  return {
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    messages,
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching mail within ${timeoutMs} ms (${messages.length} received)`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      const current = server;
      server = undefined;
      if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
    },
    async start() {
      if (!server) await listen();
    },
    refuse(on, stage = 'RCPT') {
      refusing = on ? stage : undefined;
    },
  };
}
