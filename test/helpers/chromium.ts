// Browser tests in Debian's Chromium: launching it, pages at a viewport, axe-core checks, doc screenshots, QR codes
// read from the rendered page, and the demo relying party to sign in through.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import axe from 'axe-core';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { createDemoApp } from '../../demo/app.js';
import { totpCodeAt } from '../../src/security/totp.js';
import { createClient, startTestApp, type TestApp } from './app.js';
import { TestClock } from './phone.js';
import { startSmtpServer, type TestSmtpServer } from './smtp.js';

export type { Browser, BrowserContext, Locator, Page };
export interface Clip { clip: { x: number; y: number; width: number; height: number } }

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps calling home, which floods a closed network.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 360, height: 740 };
const SCREENSHOTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');
// jsqr is CommonJS whose types declare a default export: the function is module.exports and module.exports.default.
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ?? jsQRModule) as unknown as typeof jsQRModule.default;

/** Launches Chromium headless; one per test file, a context per test. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium is not installed at ${CHROMIUM_PATH} (apt-get install -y chromium)`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** Opens a page in a fresh context (its own cookies) at the given viewport size. */
export async function newPage(browser: Browser, viewport: { width: number; height: number } = DESKTOP): Promise<Page> {
  const context = await browser.newContext({ viewport, locale: 'en-GB', reducedMotion: 'reduce' });
  // Generous: the machine may be busy with other test runs (argon2 hashing, two cores).
  context.setDefaultTimeout(30_000);
  return context.newPage();
}

/**
 * Runs axe-core on the page and fails on serious or critical violations, listing each rule and element. The
 * source is evaluated rather than added as a <script>: Twofold's CSP refuses inline scripts, and bypassing the CSP
 * would hide real problems.
 */
export async function checkA11y(page: Page, label: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    // Runs in the page, where globalThis is the window (the project compiles without the DOM library).
    const { axe: inPage, document } = globalThis as unknown as { axe: typeof axe; document: axe.ElementContext };
    const results = await inPage.run(document, { resultTypes: ['violations'] });
    return results.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`) }));
  });
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (blocking.length) {
    const list = blocking.map((v) => `  [${v.impact}] ${v.id}: ${v.help}\n${v.nodes.map((n) => `      ${n.replace(/\n/g, ' ')}`).join('\n')}`).join('\n');
    throw new Error(`accessibility violations on "${label}" (${page.url()}):\n${list}`);
  }
}

/** Waits for the page whose h1 is `heading` and checks it with axe-core; every journey step goes through here. */
export async function arrive(page: Page, heading: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  await checkA11y(page, String(heading));
}

/**
 * Saves docs/screenshots/<name>.png from the main card (or `target`), only when SCREENSHOTS=1 is set or the file is
 * missing, so that ordinary runs leave the committed images alone.
 */
export async function screenshot(page: Page, name: string, target: Locator | Clip = page.locator('main .card').first()): Promise<void> {
  const file = path.join(SCREENSHOTS_DIR, `${name}.png`);
  if (process.env['SCREENSHOTS'] !== '1' && existsSync(file)) return;
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  const options = { animations: 'disabled', caret: 'hide' } as const;
  writeFileSync(file, 'clip' in target ? await page.screenshot({ ...options, clip: target.clip }) : await target.screenshot(options));
}

/** Reads a QR code in a PNG; throws when there is none. */
export function decodeQrPng(png: Buffer): string {
  const image = PNG.sync.read(png);
  const found = jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height);
  if (!found) throw new Error(`no QR code found in a ${image.width}×${image.height} image`);
  return found.data;
}

/** The QR code's otpauth:// URI, both from the image's data: URL and from the pixels Chromium drew (they must agree). */
export async function readQrCode(image: Locator): Promise<{ uri: string; secret: string; cssWidth: number }> {
  const src = (await image.getAttribute('src')) ?? '';
  const match = /^data:image\/png;base64,(.+)$/.exec(src);
  if (!match) throw new Error(`the QR image is not an inline PNG: ${src.slice(0, 60)}`);
  const uri = decodeQrPng(Buffer.from(match[1]!, 'base64'));
  const rendered = decodeQrPng(await image.screenshot());
  if (rendered !== uri) throw new Error(`the rendered QR code reads ${rendered}, its source ${uri}`);
  const secret = new URL(uri).searchParams.get('secret');
  if (!uri.startsWith('otpauth://totp/') || !secret) throw new Error(`not a TOTP URI: ${uri}`);
  const box = await image.boundingBox();
  return { uri, secret, cssWidth: box?.width ?? 0 };
}

/** Whether anything makes the page scroll sideways. */
export async function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const window = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
    return window.document.documentElement.scrollWidth > window.innerWidth;
  });
}

/** What has the keyboard focus: "tag#id text", or "" for the page itself. */
export async function focusedElement(page: Page): Promise<string> {
  return page.evaluate(() => {
    type Element = { tagName: string; id: string; innerText: string; getAttribute(name: string): string | null };
    const { document } = globalThis as unknown as { document: { activeElement: Element | null; body: Element } };
    const element = document.activeElement;
    if (!element || element === document.body) return '';
    return `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''} ${(element.innerText || element.getAttribute('aria-label') || '').trim()}`;
  });
}

export interface DemoRp {
  url: string;
  clientId: string;
  close(): Promise<void>;
}

/** Starts the demo relying party (demo/app.ts) on 127.0.0.1 with a client registered for it, or with `client`. */
export async function startDemoRp(app: TestApp, client?: { clientId: string; clientSecret?: string | undefined }, server: Server = createServer()): Promise<DemoRp> {
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const registered = client ?? (await createClient(app, { name: 'Demo app', redirectUris: [`${url}/callback`], postLogoutRedirectUris: [`${url}/`] }));
  const demo = createDemoApp({ issuer: new URL(app.issuer), clientId: registered.clientId, clientSecret: registered.clientSecret, baseUrl: new URL(url), retryMs: 0, log: () => {} });
  server.on('request', demo.callback());
  return {
    url,
    clientId: registered.clientId,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Opens the demo's home page and clicks "Sign in with Twofold"; the page is then Twofold's (login or next step). */
export async function signInAtDemo(page: Page, demo: DemoRp): Promise<void> {
  await page.goto(demo.url);
  await page.getByRole('button', { name: 'Sign in with Twofold' }).click();
}

/** Fills in the login page (checked with axe-core first) and clicks Log in. */
export async function logIn(page: Page, username: string, password: string): Promise<void> {
  await arrive(page, 'Log in');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** On the demo's signed-in page: the value shown for an ID token claim. */
export async function claimShown(page: Page, name: string): Promise<string> {
  await page.getByRole('heading', { level: 1, name: 'You are signed in' }).waitFor();
  return (await page.getByRole('row', { name: new RegExp(`^${name} `) }).getByRole('cell').textContent())?.trim() ?? '';
}

/** Goes through the four wizard steps from step 1 (each page checked), scanning the QR code; returns the new secret. */
export async function completeSetupWizard(page: Page, clock: TestClock): Promise<string> {
  await arrive(page, 'Step 1 of 4: Install an authenticator app');
  await page.getByRole('button', { name: 'Next' }).click();
  await arrive(page, 'Step 2 of 4: Connect your authenticator app');
  const { secret } = await readQrCode(page.getByRole('img', { name: /QR code/ }));
  clock.nextStep();
  await page.getByLabel('Code', { exact: true }).fill(totpCodeAt(secret, clock.now));
  await page.getByRole('button', { name: 'Next' }).click();
  await arrive(page, 'Step 3 of 4: Confirm setup');
  await page.getByRole('button', { name: 'Next' }).click();
  await arrive(page, 'Step 4 of 4: Verify your back-up email');
  await page.getByRole('button', { name: 'Confirm' }).click();
  return secret;
}

export interface ChromiumSuiteOptions {
  /** Starts a real SMTP server first and points the app's SMTP_URL at it. */
  smtp?: boolean;
  /** More environment for the app (e.g. MAIL_FROM). */
  env?: Record<string, string>;
  /** Whether to start the demo relying party with a client registered for it (default), or leave `demo` to the test. */
  demo?: boolean;
}

/**
 * What a browser suite set up. Apart from `clock`, the properties are only set once the suite's `before` has run:
 * read them inside tests and hooks, never at the top of a `describe`. `smtp` is set only with `smtp: true`; with
 * `demo: false` a test may set `demo` itself, and it is then closed with the rest.
 */
export interface ChromiumSuite {
  clock: TestClock;
  app: TestApp;
  smtp: TestSmtpServer;
  demo: DemoRp;
  browser: Browser;
}

/**
 * Registers the `before` and `after` hooks of the enclosing `describe` of a browser test: before, the SMTP server (if
 * asked), the app reading `clock`, the demo relying party and Chromium, in that order; after, Chromium, the demo and
 * the app are closed, then the SMTP server stopped.
 */
export function useChromiumSuite(options: ChromiumSuiteOptions = {}): ChromiumSuite {
  const suite = { clock: new TestClock() } as ChromiumSuite;
  before(async function () {
    if (options.smtp) suite.smtp = await startSmtpServer();
    suite.app = await startTestApp({ ...(options.smtp ? { SMTP_URL: suite.smtp.url } : {}), ...options.env }, { clock: suite.clock.read });
    if (options.demo !== false) suite.demo = await startDemoRp(suite.app);
    suite.browser = await launchChromium();
  });
  after(async function () {
    await suite.browser?.close();
    await suite.demo?.close();
    await suite.app?.close();
    await suite.smtp?.stop();
  });
  return suite;
}
