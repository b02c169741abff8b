// The audit log in /admin: real security events, filters, cursor pages, CSV and JSON exports, refusals and messages.
import { expect } from 'chai';
import { errors } from 'oidc-provider';
import { Browser, type Page } from '../helpers/browser.js';
import { createUser } from '../helpers/app.js';
import { signInAsAdmin, type AdminSession } from '../helpers/admin.js';
import { codeFor, connectAuthenticator } from '../helpers/phone.js';
import { isCallback, openLogin, startAuthorization, submitPassword } from '../helpers/relying-party.js';
import { openTestDatabase } from '../helpers/database.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { createTotpSecret } from '../../src/security/totp.js';
import type { AuditEvent } from '../../src/storage/queries.js';

const PASSWORD = 'audit test password';
const EVIL = 'eve\r\nFAKE login.succeeded\u001b[31mred\u001b[0m';

// RFC 4180: quoted fields may hold commas, CRLF and doubled quotes; every record ends with CRLF.
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  const field = /"((?:[^"]|"")*)"|([^",\r\n]*)/y;
  let record: string[] = [];
  for (let i = 0; i < text.length; ) {
    field.lastIndex = i;
    const match = field.exec(text)!;
    record.push(match[1] !== undefined ? match[1].replace(/""/g, '"') : match[2]!);
    i = field.lastIndex;
    if (text[i] === ',') i++;
    else if (text.startsWith('\r\n', i)) [i, records[records.length], record] = [i + 2, record, []];
    else throw new Error(`expected a comma or CRLF at ${i}`);
  }
  return records;
}

const idsOn = (html: string) => [...html.matchAll(/<tr data-event-id="(\d+)"/g)].map((m) => Number(m[1]));
const link = (html: string, text: string) => new RegExp(`<a href="([^"]*)"[^>]*>${text}</a>`).exec(html)?.[1]?.replace(/&amp;/g, '&');
const alertOn = (html: string) => /<div class="alert" role="alert">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the audit log in the admin console', function () {
  const suite = useFlowSuite();
  let admin: AdminSession;

  before(async function () {
    admin = await signInAsAdmin(suite.app, suite.clock, 'auditor');
  });

  const open = (path: string): Promise<Page> => admin.browser.follow(`${suite.app.issuer}${path}`);
  const signInPage = async (browser: Browser) => openLogin(browser, suite.rp, await startAuthorization(suite.rp));

  async function waitForEvent(event: string, match: (e: AuditEvent) => boolean): Promise<AuditEvent> {
    for (let i = 0; i < 50; i++) {
      const found = (await suite.app.queries.auditEvents.list({ event, limit: 50 })).find(match);
      if (found) return found;
      await sleep(20);
    }
    throw new Error(`no ${event} event recorded`);
  }

  it('records real logins (a failed password without the typed username, TOTP with acr/amr, a postponement) and filters them', async function () {
    const alice = await createUser(suite.app, { username: 'alice', password: PASSWORD });
    const browser = new Browser();
    const login = await signInPage(browser);
    expect((await submitPassword(browser, suite.rp, login, 'alice', 'wrong password')).status).to.equal(401);
    const typed = 'maybe-my-password-typed-as-username';
    expect((await submitPassword(browser, suite.rp, login, typed, 'whatever')).status).to.equal(401);

    const tina = await createUser(suite.app, { username: 'tina', password: PASSWORD, role: 'sysadmin' });
    const secret = createTotpSecret();
    await connectAuthenticator(suite.app, tina.id, secret);
    const tinaBrowser = new Browser();
    const codePage = await submitPassword(tinaBrowser, suite.rp, await signInPage(tinaBrowser), 'tina', PASSWORD);
    suite.clock.nextStep();
    expect((await tinaBrowser.submit(codePage, '/totp', { code: codeFor(secret, suite.clock) }, isCallback(suite.rp))).stoppedAt).to.be.a('string');

    const pete = await createUser(suite.app, { username: 'pete', password: PASSWORD, role: 'sysadmin' });
    const peteBrowser = new Browser();
    const install = await submitPassword(peteBrowser, suite.rp, await signInPage(peteBrowser), 'pete', PASSWORD);
    expect((await peteBrowser.submit(install, '/setup/postpone', {}, isCallback(suite.rp))).stoppedAt).to.be.a('string');

    const failed = await suite.app.queries.auditEvents.list({ event: 'password.failed', limit: 10 });
    expect(failed.map((e) => e.accountId)).to.have.members([alice.id, null]);
    const unknown = failed.find((e) => e.accountId === null)!;
    expect(unknown.details).to.deep.equal({});
    expect(JSON.stringify(unknown)).not.to.contain(typed);

    const page = await open('/admin/audit?account=TINA');
    expect(page.status).to.equal(200);
    expect(page.headers.get('cache-control')).to.equal('no-store');
    expect(page.html).to.contain('<a href="/admin/audit" aria-current="page">Audit log</a>');
    expect(page.html).to.contain('value="TINA"');
    const tinaEvents = await suite.app.queries.auditEvents.list({ accountId: tina.id, limit: 50 });
    expect(idsOn(page.html)).to.deep.equal(tinaEvents.map((e) => e.id));
    expect(tinaEvents.map((e) => e.event)).to.include.members(['mfa.totp.accepted', 'login.succeeded']);
    expect(page.html).to.contain(`<a href="/admin/accounts/${tina.id}">tina</a>`);
    expect(page.html).to.contain('{&quot;acr&quot;:&quot;urn:twofold:loa:3&quot;,&quot;amr&quot;:[&quot;pwd&quot;,&quot;otp&quot;,&quot;mfa&quot;]}');
    expect(page.html).to.contain(`<span title="twofold-flow-test">twofold-flow-test</span>`);
    expect(page.html).to.match(/<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z">/);

    const byEvent = await open('/admin/audit?event=password.failed');
    expect(idsOn(byEvent.html)).to.deep.equal(failed.map((e) => e.id));
    expect(byEvent.html).to.contain('<option value="password.failed" selected>');
    const postponed = await open(`/admin/audit?account=pete&event=mfa.postponed`);
    const [event] = await suite.app.queries.auditEvents.list({ accountId: pete.id, event: 'mfa.postponed', limit: 5 });
    expect(idsOn(postponed.html)).to.deep.equal([event!.id]);
    expect(event!.details).to.deep.equal({ left: 4 });
  });

  it('filters by time (datetime-local values read as UTC), with seconds and milliseconds or minutes only', async function () {
    const timed = await createUser(suite.app, { username: 'timed', password: PASSWORD });
    const origin = { ip: '192.0.2.1', userAgent: 'timer' };
    for (const n of [1, 2, 3]) {
      await suite.app.queries.auditEvents.record({ event: 'mfa.totp.rejected', accountId: timed.id, ...origin, details: { n } });
      await sleep(60);
    }
    const [third, second] = await suite.app.queries.auditEvents.list({ accountId: timed.id, limit: 3 });
    const local = (date: Date, ms: number) => new Date(date.getTime() + ms).toISOString().slice(0, 23); // what datetime-local sends
    const page = await open(`/admin/audit?account=timed&from=${local(second!.occurredAt, -20)}&to=${local(third!.occurredAt, -20)}`);
    expect(page.status).to.equal(200);
    expect(idsOn(page.html)).to.deep.equal([second!.id]);
    const afterAll = await open(`/admin/audit?account=timed&from=${local(third!.occurredAt, 60_000).slice(0, 16)}`);
    expect(idsOn(afterAll.html)).to.deep.equal([]);
    expect(afterAll.html).to.contain('No events match these filters.');
  });

  it('pages back through older events by cursor, keeping the filters', async function () {
    const pager = await createUser(suite.app, { username: 'pager', password: PASSWORD });
    for (let n = 0; n < 25; n++) await suite.app.queries.auditEvents.record({ event: 'mfa.email.rejected', accountId: pager.id, ip: '192.0.2.2', details: { n } });
    await suite.app.queries.auditEvents.record({ event: 'mfa.email.sent', accountId: pager.id, ip: '192.0.2.2' });
    const seen: number[] = [];
    let page = await open('/admin/audit?account=pager&event=mfa.email.rejected&size=10');
    for (const expected of [10, 10, 5]) {
      expect(idsOn(page.html)).to.have.length(expected);
      seen.push(...idsOn(page.html));
      const older = link(page.html, 'Older events');
      if (expected < 10) {
        expect(older).to.equal(undefined);
        break;
      }
      const params = new URL(older!, suite.app.issuer).searchParams;
      expect(Object.fromEntries(params)).to.deep.equal({ account: 'pager', event: 'mfa.email.rejected', size: '10', before: String(seen[seen.length - 1]) });
      page = await open(older!);
      expect(link(page.html, 'Newest events')).to.equal('/admin/audit?account=pager&event=mfa.email.rejected&size=10');
    }
    const all = await suite.app.queries.auditEvents.list({ accountId: pager.id, event: 'mfa.email.rejected', limit: 50 });
    expect(seen).to.deep.equal(all.map((e) => e.id));
  });

  it('exports the same rows as the page, as RFC 4180 CSV with formulas defused and as JSON, never cached', async function () {
    const formula = await createUser(suite.app, { username: '=HYPERLINK("http://evil.example","x")', password: PASSWORD });
    await suite.app.queries.auditEvents.record({ event: 'account.role_changed', accountId: formula.id, actorId: admin.account.id, ip: '192.0.2.3', userAgent: '@SUM(1,2)', clientId: '+client', details: { note: 'a, "b"\r\nc', role: 'user' } });
    await suite.app.queries.auditEvents.record({ event: 'mfa.reset', accountId: formula.id, actorId: admin.account.id, ip: '192.0.2.3', userAgent: 'ok', details: { username: EVIL } });
    const filters = `account=${encodeURIComponent(formula.username)}`;
    const page = await open(`/admin/audit?${filters}`);
    const pageIds = idsOn(page.html);
    expect(pageIds).to.have.length(2);
    expect(link(page.html, 'CSV')).to.equal(`/admin/audit/export.csv?${new URLSearchParams({ account: formula.username })}`);
    // Stored exactly as given, shown escaped: no raw CR, LF or ESC in the table.
    const [stored] = await suite.app.queries.auditEvents.list({ accountId: formula.id, event: 'mfa.reset', limit: 1 });
    expect(stored!.details).to.deep.equal({ username: EVIL });
    const table = page.html.slice(page.html.indexOf('<tbody>'), page.html.indexOf('</tbody>'));
    expect(table).not.to.match(/[\r\n\u001b]/);
    expect(table).to.contain('eve\\r\\nFAKE login.succeeded\\u001b[31mred');

    const csv = await admin.browser.request(`${suite.app.issuer}/admin/audit/export.csv?${filters}`);
    expect(csv.status).to.equal(200);
    expect(csv.headers.get('cache-control')).to.equal('no-store');
    expect(csv.headers.get('content-type')).to.match(/^text\/csv; charset=utf-8/);
    expect(csv.headers.get('content-disposition')).to.match(/^attachment; filename="twofold-audit-\d{8}T\d{6}Z\.csv"$/);
    expect(csv.headers.get('x-twofold-truncated')).to.equal('false');
    const text = await csv.text();
    expect(text.replace(/\r\n/g, '')).not.to.match(/[\r\n\u001b]/);
    const [header, ...records] = parseCsv(text);
    expect(header).to.deep.equal(['id', 'occurred_at', 'event', 'account_id', 'username', 'actor_id', 'actor_username', 'ip', 'user_agent', 'client_id', 'details']);
    expect(records.map((r) => Number(r[0]))).to.deep.equal(pageIds);
    const roleChanged = records.find((r) => r[2] === 'account.role_changed')!;
    expect(roleChanged.slice(3)).to.deep.equal([formula.id, `'${formula.username}`, admin.account.id, 'auditor', '192.0.2.3', "'@SUM(1,2)", "'+client", '{"note":"a, \\"b\\"\\r\\nc","role":"user"}']);

    const json = await admin.browser.request(`${suite.app.issuer}/admin/audit/export.json?${filters}`);
    expect(json.headers.get('cache-control')).to.equal('no-store');
    expect(json.headers.get('content-disposition')).to.match(/^attachment; filename="twofold-audit-\d{8}T\d{6}Z\.json"$/);
    const body = (await json.json()) as { events: Record<string, unknown>[]; truncated: boolean };
    expect(body.truncated).to.equal(false);
    expect(body.events.map((e) => e['id'])).to.deep.equal(pageIds);
    expect(body.events.find((e) => e['event'] === 'mfa.reset')).to.include({ username: formula.username, actorUsername: 'auditor', accountId: formula.id });
    expect(body.events.find((e) => e['event'] === 'mfa.reset')!['details']).to.deep.equal({ username: EVIL });
    expect(body.events.map((e) => e['occurredAt'])).to.deep.equal(records.map((r) => r[1]));
  });

  it('exports at most 10,000 events and says when it stopped there', async function () {
    const database = await openTestDatabase(suite.app.config.databaseSchema);
    const insert = (count: number) => database.knex.raw(`insert into audit_events (event, ip, details) select 'client.deleted', '192.0.2.4', jsonb_build_object('n', g) from generate_series(1, ?) g`, [count]);
    try {
      await insert(10_000);
      const exact = await admin.browser.request(`${suite.app.issuer}/admin/audit/export.json?event=client.deleted`);
      expect(exact.headers.get('x-twofold-truncated')).to.equal('false');
      const all = (await exact.json()) as { events: { id: number }[]; truncated: boolean };
      expect(all.truncated).to.equal(false);
      expect(new Set(all.events.map((e) => e.id)).size).to.equal(10_000);

      await insert(1);
      const cut = await admin.browser.request(`${suite.app.issuer}/admin/audit/export.csv?event=client.deleted`);
      expect(cut.headers.get('x-twofold-truncated')).to.equal('true');
      const records = parseCsv(await cut.text());
      expect(records).to.have.length(10_001); // the header and 10,000 events, nothing else
      expect(records[records.length - 1]![2]).to.equal('client.deleted');
      const json = (await (await admin.browser.request(`${suite.app.issuer}/admin/audit/export.json?event=client.deleted`)).json()) as { events: unknown[]; truncated: boolean };
      expect([json.events.length, json.truncated]).to.deep.equal([10_000, true]);
    } finally {
      await database.close();
    }
  });

  it('answers bad filters with a message, never an error page', async function () {
    const cases: [string, number, string][] = [
      ['from=2025-02-30T10:00', 400, '“From” is not a valid date and time'],
      ['to=yesterday', 400, '“To” is not a valid date and time'],
      ['from=2025-01-02T00:00&to=2025-01-01T23:59', 400, '“From” must be earlier than “To”.'],
      ['event=password.stolen', 400, 'Choose an event from the list.'],
      ['colour=red&x=1', 400, 'Unknown filters: “colour”, “x”.'],
      ['account=a&account=b', 400, 'The filter “account” was given more than once.'],
      ['before=abc', 400, 'The page link is not valid'],
      ['before=99999999999999999999', 400, 'The page link is not valid'],
      ['size=5', 400, 'The page size must be a whole number from 10 to 200.'],
      ['size=1e2', 400, 'The page size must be'],
      [`from=${'9'.repeat(5000)}`, 400, 'The filter “from” is too long.'],
      ['account=nobody-here', 200, 'No account has the username “nobody-here”.'],
    ];
    for (const [query, status, message] of cases) {
      const page = await open(`/admin/audit?${query}`);
      expect(page.status, query).to.equal(status);
      expect(alertOn(page.html), query).to.contain(message);
      expect(page.html, query).not.to.contain('<table');
    }
    const csv = await admin.browser.request(`${suite.app.issuer}/admin/audit/export.csv?from=2025-13-01T00:00`);
    expect([csv.status, csv.headers.get('content-type'), await csv.text()]).to.deep.equal([400, 'text/plain; charset=utf-8', '“From” is not a valid date and time; use the form YYYY-MM-DDTHH:MM (UTC).\n']);
    const json = await admin.browser.request(`${suite.app.issuer}/admin/audit/export.json?account=nobody-here`);
    expect(json.status).to.equal(400);
    expect(await json.json()).to.deep.equal({ error: 'invalid_filter', problems: ['No account has the username “nobody-here”.'] });
  });

  it('refuses the log and its exports to an account that is not a sysadmin, and sends a visitor to sign in', async function () {
    await createUser(suite.app, { username: 'nosy', password: PASSWORD });
    const browser = new Browser();
    expect((await submitPassword(browser, suite.rp, await signInPage(browser), 'nosy', PASSWORD)).stoppedAt).to.be.a('string');
    for (const path of ['/admin/audit', '/admin/audit/export.csv', '/admin/audit/export.json']) {
      const response = await browser.request(`${suite.app.issuer}${path}`);
      expect(response.status, path).to.equal(403);
      expect(await response.text(), path).not.to.contain('login.succeeded');
      const visitor = await new Browser().request(`${suite.app.issuer}${path}`);
      expect(visitor.status, path).to.equal(302);
    }
  });

  it('records failed client authentication and refused dynamic registration, without the secret or token', async function () {
    const token = `${suite.app.issuer}/token`;
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const post = (authorization: string) => fetch(token, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'bad-client' }, body: 'grant_type=client_credentials' });
    expect((await post(basic(suite.client.clientId, 'not-the-secret-123'))).status).to.equal(401);
    const known = await waitForEvent('client.auth_failed', (e) => e.clientId === suite.client.clientId);
    expect(known).to.include({ accountId: null, userAgent: 'bad-client' });
    expect(known.details).to.include({ endpoint: 'token', clientKnown: true });
    expect(JSON.stringify(known)).not.to.contain('not-the-secret-123');
    await post(basic('no-such-client', 'guess'));
    expect((await waitForEvent('client.auth_failed', (e) => e.details['clientKnown'] === false)).details).to.include({ endpoint: 'token' });

    // A registration with a made-up initial access token; where dynamic registration is not configured, the
    // provider's event is raised as oidc-provider raises it.
    const presented = 'presented-initial-access-token';
    const discovery = (await (await fetch(`${suite.app.issuer}/.well-known/openid-configuration`)).json()) as { registration_endpoint?: string };
    if (discovery.registration_endpoint) {
      const response = await fetch(discovery.registration_endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${presented}`, 'content-type': 'application/json', 'user-agent': 'dcr-client' },
        body: JSON.stringify({ redirect_uris: ['https://rp.example/cb'] }),
      });
      expect(response.status).to.equal(401);
    } else {
      const headers: Record<string, string> = { 'user-agent': 'dcr-client', authorization: `Bearer ${presented}` };
      const ctx = { ip: '127.0.0.1', headers, get: (name: string) => headers[name.toLowerCase()] ?? '', oidc: {} };
      suite.app.provider.emit('registration_create.error', ctx, new errors.InvalidToken('initial access token not found'));
    }
    const refused = await waitForEvent('registration.refused', () => true);
    expect(refused).to.include({ ip: '127.0.0.1', userAgent: 'dcr-client', accountId: null, clientId: null });
    expect(refused.details).to.deep.equal({ error: 'invalid_token', reason: 'initial access token not found' });
    expect(JSON.stringify(refused)).not.to.contain(presented);
    const page = await open('/admin/audit?event=registration.refused');
    expect(idsOn(page.html)).to.deep.equal([refused.id]);
  });
});
