// The mailer against a real SMTP server (up, down, back, refusing, silent) and in development outbox mode.
import { readdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import Koa from 'koa';
import views from 'koa-views';
import { pino, type Logger } from 'pino';
import { handleErrors } from '../../src/http/handle-errors.js';
import { securityHeaders } from '../../src/security/headers.js';
import { viewsDir } from '../../src/paths.js';
import { createMailer, type Mailer, type MailMessage } from '../../src/mail/mailer.js';
import { listOutbox, readOutboxMessage, writeOutboxMessage } from '../../src/mail/outbox.js';
import { createOutboxRouter, outboxPageEnabled } from '../../src/mail/outbox-routes.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { viewTemplates } from '../helpers/templates.js';
import { useTempDir } from '../helpers/temp-dir.js';

const FROM = 'Twofold <no-reply@twofold.example>';
const ISSUER = 'https://login.example.com';
const TIMEOUT_MS = 400;
const CODE = '482913';
const SUBJECT = 'Your Twofold back-up code';

/** A pino logger writing to a string, without redaction: the mailer itself must keep secrets out. */
function captureLog(): { logger: Logger; text(): string; entries(): Record<string, unknown>[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return { logger, text: () => lines.join(''), entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

function emailCode(to = 'alice@example.com', code = CODE): MailMessage<'email-code'> {
  return { to, template: 'email-code', locals: { name: 'Alice Example', code, minutes: 5 } };
}

describe('mailer', function () {
  const scratch = useTempDir('twofold-mail-', { each: true });

  describe('with SMTP', function () {
    let smtp: TestSmtpServer;
    let log: ReturnType<typeof captureLog>;
    let mailer: Mailer;
    beforeEach(async function () {
      smtp = await startSmtpServer();
      log = captureLog();
      mailer = createMailer({ smtpUrl: smtp.url, mailFrom: FROM, issuer: ISSUER, dataDir: scratch(), logger: log.logger, templates: await viewTemplates(), timeoutMs: TIMEOUT_MS });
    });
    afterEach(async function () {
      await mailer.close();
      await smtp.stop();
    });

    it('delivers the rendered email with the right From, To, subject, text and HTML', async function () {
      expect(mailer.kind).to.equal('smtp');
      expect(await mailer.send(emailCode())).to.deep.equal({ status: 'SENT' });
      const mail = await smtp.waitFor((m) => m.to.includes('alice@example.com'));
      expect(mail.from).to.equal('"Twofold" <no-reply@twofold.example>');
      expect(mail.envelopeTo).to.deep.equal(['alice@example.com']);
      expect(mail.subject).to.equal(SUBJECT);
      expect(mail.text).to.include(`Your Twofold back-up code is ${CODE}. It is valid for 5 minutes.`);
      expect(mail.text).to.include(`This email was sent by Twofold at ${ISSUER}.`);
      expect(mail.html).to.match(/<p[^>]*>482913<\/p>/);
      expect(await readdir(scratch())).to.deep.equal([], 'nothing goes to the outbox when SMTP is set');
      expect(log.text()).to.include('example.com');
      expect(log.text()).not.to.include(CODE);
      expect(log.text()).not.to.include('alice@');
    });

    it('returns FAILED UNAVAILABLE without throwing while the server is down, and delivers again once it is back', async function () {
      await smtp.stop();
      const started = Date.now();
      expect(await mailer.send(emailCode())).to.deep.equal({ status: 'FAILED', reason: 'UNAVAILABLE' });
      expect(Date.now() - started).to.be.below(2 * TIMEOUT_MS + 500);

      const failure = log.entries().find((entry) => entry['msg'] === 'mail not sent');
      expect(failure).to.include({ recipientDomain: 'example.com', reason: 'UNAVAILABLE', template: 'email-code' });
      expect(failure?.['errorCode']).to.be.a('string').and.not.equal('UNKNOWN');
      // Neither the code, nor the subject, nor the body, nor the full address may reach the log.
      expect(log.text()).not.to.include(CODE);
      expect(log.text()).not.to.include(SUBJECT);
      expect(log.text()).not.to.include('valid for');
      expect(log.text()).not.to.include('alice@');

      await smtp.start();
      expect(await mailer.send(emailCode('alice@example.com', '111222'))).to.deep.equal({ status: 'SENT' });
      await smtp.waitFor((m) => m.text.includes('111222'));
    });

    it('returns FAILED REJECTED when the server refuses the recipient or the message', async function () {
      smtp.refuse(true, 'RCPT');
      expect(await mailer.send(emailCode())).to.deep.equal({ status: 'FAILED', reason: 'REJECTED' });
      smtp.refuse(true, 'DATA');
      expect(await mailer.send(emailCode())).to.deep.equal({ status: 'FAILED', reason: 'REJECTED' });
      expect(smtp.messages).to.have.length(0);
      const codes = log.entries().filter((entry) => entry['msg'] === 'mail not sent').map((entry) => [entry['errorCode'], entry['responseCode']]);
      expect(codes).to.deep.equal([['EENVELOPE', 550], ['EMESSAGE', 554]]);
      expect(log.text()).not.to.include(CODE);

      smtp.refuse(false);
      expect(await mailer.send(emailCode())).to.deep.equal({ status: 'SENT' });
      expect(smtp.messages).to.have.length(1);
    });

    it('refuses a recipient that is not exactly one address, sending nothing', async function () {
      for (const to of ['alice@example.com, mallory@evil.example', 'Alice <alice@example.com>', 'alice@example.com\r\nBcc: m@evil.example', 'no-at-sign']) {
        expect(await mailer.send(emailCode(to))).to.deep.equal({ status: 'FAILED', reason: 'REJECTED' });
      }
      expect(smtp.messages).to.have.length(0);
      expect(log.text()).not.to.include('evil');
    });
  });

  it('gives up on a server that accepts the connection but never answers, within the timeout', async function () {
    // A black hole: the TCP connection opens, no greeting ever comes (as behind a broken firewall or a hung server).
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const log = captureLog();
    const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, mailFrom: FROM, issuer: ISSUER, dataDir: scratch(), logger: log.logger, templates: await viewTemplates(), timeoutMs: TIMEOUT_MS });
    try {
      const started = Date.now();
      expect(await mailer.send(emailCode())).to.deep.equal({ status: 'FAILED', reason: 'UNAVAILABLE' });
      const elapsed = Date.now() - started;
      expect(elapsed).to.be.at.least(TIMEOUT_MS - 50);
      expect(elapsed).to.be.below(2 * TIMEOUT_MS + 500);
      expect(sockets.size).to.equal(1);
      expect(log.entries().find((entry) => entry['msg'] === 'mail not sent')).to.include({ errorCode: 'ETIMEDOUT' });
    } finally {
      await mailer.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  describe('without SMTP (development outbox)', function () {
    it('writes each message to a 0600 file in a 0700 folder and logs where, not what', async function () {
      const log = captureLog();
      const mailer = createMailer({ mailFrom: FROM, issuer: ISSUER, dataDir: scratch(), logger: log.logger, templates: await viewTemplates() });
      expect(mailer.kind).to.equal('outbox');
      expect(await mailer.send(emailCode())).to.deep.equal({ status: 'SENT' });

      const outbox = path.join(scratch(), 'outbox');
      expect((await stat(outbox)).mode & 0o777).to.equal(0o700);
      const files = await readdir(outbox);
      expect(files).to.have.length(1);
      const file = path.join(outbox, files[0]!);
      expect((await stat(file)).mode & 0o777).to.equal(0o600);

      const [listed] = await listOutbox(scratch(), 10);
      expect(listed).to.include({ to: 'alice@example.com', from: FROM, subject: SUBJECT });
      expect(listed?.text).to.include(`Your Twofold back-up code is ${CODE}.`);
      expect(listed?.html).to.include(CODE);
      expect(new Date(listed!.date).getTime()).to.be.closeTo(Date.now(), 10_000);
      expect(await readOutboxMessage(scratch(), listed!.id)).to.deep.equal(listed);
      expect(files[0]).to.equal(`${listed!.id}.json`);

      const entry = log.entries().find((e) => e['file'] === file);
      expect(entry).to.include({ subject: SUBJECT });
      expect(log.text()).not.to.include(CODE);
      await mailer.close();
    });

    it('lists the newest messages first, at most `limit`, and an absent outbox as empty', async function () {
      expect(await listOutbox(scratch(), 10)).to.deep.equal([]);
      const base = { from: FROM, text: 't', html: '<p>h</p>' };
      for (const [i, when] of ['2024-01-01T10:00:00Z', '2024-01-03T10:00:00Z', '2024-01-02T10:00:00Z'].entries()) {
        await writeOutboxMessage(scratch(), { ...base, to: `u${i}@example.com`, subject: `s${i}` }, new Date(when));
      }
      expect((await listOutbox(scratch(), 2)).map((m) => m.subject)).to.deep.equal(['s1', 's2']);
      expect((await listOutbox(scratch(), 10)).map((m) => m.subject)).to.deep.equal(['s1', 's2', 's0']);
    });

    it('refuses ids that are not of the exact outbox shape, even when such a file exists', async function () {
      const { id } = await writeOutboxMessage(scratch(), { to: 'a@example.com', from: FROM, subject: 's', text: 't', html: 'h' });
      // A file a naive path.join(outbox, id + '.json') would reach from "../secret".
      await writeFile(path.join(scratch(), 'secret.json'), JSON.stringify({ id: '../secret', date: 'd', to: 't', from: 'f', subject: 'SECRET', text: 't', html: 'h' }));
      expect(await readOutboxMessage(scratch(), id)).to.include({ subject: 's' });
      for (const bad of ['../secret', `${id}/../../secret`, `${id}.json`, `../outbox/${id}`, `${id}\0`, id.toUpperCase().replace('-', '_'), '']) {
        expect(await readOutboxMessage(scratch(), bad), bad).to.equal(undefined);
      }
    });
  });

  describe('outbox pages', function () {
    let base: string;
    let close: () => Promise<void>;
    beforeEach(async function () {
      const app = new Koa();
      app.use(views(viewsDir, { extension: 'pug', options: { basedir: viewsDir } }));
      app.use(securityHeaders());
      app.use(handleErrors(captureLog().logger));
      app.use(createOutboxRouter({ dataDir: scratch() }).routes());
      const server = createServer(app.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      close = () => new Promise((resolve) => server.close(() => resolve()));
    });
    afterEach(async function () {
      await close();
    });

    it('are served only without SMTP_URL and never in production', function () {
      expect(outboxPageEnabled({ smtpUrl: undefined, nodeEnv: 'development' })).to.equal(true);
      expect(outboxPageEnabled({ smtpUrl: undefined, nodeEnv: 'test' })).to.equal(true);
      expect(outboxPageEnabled({ smtpUrl: undefined, nodeEnv: 'production' })).to.equal(false);
      expect(outboxPageEnabled({ smtpUrl: 'smtp://mail.example.com', nodeEnv: 'development' })).to.equal(false);
    });

    it('list the messages, show one as escaped text, and serve its HTML sandboxed', async function () {
      const { id } = await writeOutboxMessage(scratch(), { to: 'a@example.com', from: FROM, subject: 'Hello <b>there</b>', text: 'code 123 <script>x</script>', html: '<p>Hi</p><script>alert(1)</script>' });
      const list = await fetch(`${base}/dev/outbox`);
      expect(list.status).to.equal(200);
      expect(list.headers.get('cache-control')).to.equal('no-store');
      const listHtml = await list.text();
      expect(listHtml).to.include(`href="/dev/outbox/${id}"`);
      expect(listHtml).to.include('Hello &lt;b&gt;there&lt;/b&gt;');

      const page = await (await fetch(`${base}/dev/outbox/${id}`)).text();
      expect(page).to.include('<pre>code 123 &lt;script&gt;x&lt;/script&gt;</pre>');
      expect(page).to.include(`href="/dev/outbox/${id}/html"`);

      const raw = await fetch(`${base}/dev/outbox/${id}/html`);
      expect(raw.headers.get('content-security-policy')).to.equal("default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox");
      expect(raw.headers.get('content-type')).to.match(/^text\/html/);
      expect(await raw.text()).to.equal('<p>Hi</p><script>alert(1)</script>');
    });

    it('answer 404 to an unknown or malformed id, including path traversal', async function () {
      await writeFile(path.join(scratch(), 'secret.json'), JSON.stringify({ id: '../secret', date: 'd', to: 't', from: 'f', subject: 'SECRET', text: 't', html: 'SECRET' }));
      for (const id of ['0000000000000-0000000000000000', '..%2Fsecret', '%2E%2E%2Fsecret', '..%5Csecret']) {
        for (const suffix of ['', '/html']) {
          const response = await fetch(`${base}/dev/outbox/${id}${suffix}`);
          expect(response.status, id + suffix).to.equal(404);
          expect(await response.text()).not.to.include('SECRET');
        }
      }
    });
  });
});
