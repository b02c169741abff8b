// The usual setup of a flow test file: a test clock, optionally a real SMTP server, the app, and a registered client
// with its openid-client relying party, all started in mocha `before` and stopped in `after`.
import type { ClientInput } from '../../src/clients/client-input.js';
import { createClient, startTestApp, type TestApp } from './app.js';
import { TestClock } from './phone.js';
import { discoverClient, type RelyingParty } from './relying-party.js';
import { startSmtpServer, type TestSmtpServer } from './smtp.js';

export interface FlowSuiteOptions {
  /** Starts a real SMTP server first and points the app's SMTP_URL at it. */
  smtp?: boolean;
  /** More environment for the app (e.g. MAIL_FROM); a function is called in `before`, after the SMTP server starts. */
  env?: Record<string, string> | (() => Record<string, string>);
  /** Whether the app reads `clock` (default) or keeps real time (`false`). */
  clock?: boolean;
  /** The client to register (createClient's defaults when omitted), or `false` to register none. */
  client?: Partial<ClientInput> | false;
}

/**
 * What the suite set up. Apart from `clock`, the properties are only set once the suite's `before` has run: read them
 * inside tests and hooks, never at the top of a `describe`. `smtp` is set only with `smtp: true`, `client` and `rp`
 * only unless `client: false`.
 */
export interface FlowSuite {
  clock: TestClock;
  app: TestApp;
  smtp: TestSmtpServer;
  client: Awaited<ReturnType<typeof createClient>>;
  rp: RelyingParty;
}

/**
 * Registers the `before` and `after` hooks of the enclosing `describe`: before, the SMTP server (if asked), the app
 * and the client with its relying party, in that order; after, the app is closed, then the SMTP server stopped. Hooks
 * the file registers later run after these `before` hooks (and after these `after` hooks).
 */
export function useFlowSuite(options: FlowSuiteOptions = {}): FlowSuite {
  const suite = { clock: new TestClock() } as FlowSuite;
  before(async function () {
    if (options.smtp) suite.smtp = await startSmtpServer();
    const env = typeof options.env === 'function' ? options.env() : options.env ?? {};
    suite.app = await startTestApp({ ...(options.smtp ? { SMTP_URL: suite.smtp.url } : {}), ...env }, options.clock === false ? {} : { clock: suite.clock.read });
    if (options.client !== false) {
      suite.client = await createClient(suite.app, options.client);
      suite.rp = await discoverClient(suite.app.issuer, suite.client);
    }
  });
  after(async function () {
    await suite.app?.close();
    await suite.smtp?.stop();
  });
  return suite;
}
