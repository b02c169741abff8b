// The development outbox pages: /dev/outbox lists the emails Twofold wrote instead of sending them.
import Router from '@koa/router';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { noStore } from '../security/headers.js';
import { listOutbox, readOutboxMessage } from './outbox.js';

const LIST_LIMIT = 100;

// The stored HTML is a document of its own, shown with nothing allowed: no script (sandbox), no request to any
// server, not even ours (default-src 'none'); only the email's own inline styles and data: images.
const STORED_HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";

/** Whether the app serves the outbox pages: only when mail goes to the outbox, and never in production. */
export function outboxPageEnabled(config: Pick<Config, 'smtpUrl' | 'nodeEnv'>): boolean {
  // The outbox holds everyone's one-time codes: a production server must never show it, even without SMTP.
  return !config.smtpUrl && config.nodeEnv !== 'production';
}

/** Creates the router for GET /dev/outbox, /dev/outbox/:id and /dev/outbox/:id/html. */
export function createOutboxRouter(deps: { dataDir: string }): Router {
  const router = new Router({ prefix: '/dev/outbox' });
  // The pages show one-time codes: no cache may keep them.
  router.use(noStore);

  router.get('/', async (ctx) => {
    const messages = await listOutbox(deps.dataDir, LIST_LIMIT);
    await ctx.render('dev/outbox', { title: 'Development outbox', messages });
  });

  // readOutboxMessage accepts only ids of the exact shape it writes, so ":id" can never name another file.
  router.get('/:id', async (ctx) => {
    const message = await readOutboxMessage(deps.dataDir, ctx.params['id'] ?? '');
    if (!message) throw new AppError('NOT_FOUND');
    await ctx.render('dev/outbox-message', { title: message.subject, message });
  });

  router.get('/:id/html', async (ctx) => {
    const message = await readOutboxMessage(deps.dataDir, ctx.params['id'] ?? '');
    if (!message) throw new AppError('NOT_FOUND');
    ctx.set('Content-Security-Policy', STORED_HTML_CSP);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = message.html;
  });
  return router;
}
