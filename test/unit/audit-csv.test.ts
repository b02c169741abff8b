// The audit export's CSV (RFC 4180, no formulas) and injection safety of audit text in the table, the CSV and the log.
import { expect } from 'chai';
import path from 'node:path';
import { Writable } from 'node:stream';
import pug from 'pug';
import { pino } from 'pino';
import { auditCsv, AUDIT_CSV_COLUMNS, csvCell, csvLine } from '../../src/admin/audit-csv.js';
import { displayRow, showControls } from '../../src/admin/audit-display.js';
import type { AuditRow } from '../../src/admin/audit-rows.js';
import { AUDIT_EVENTS, createAuditLog } from '../../src/security/audit.js';
import { filterQueryString, parseAuditQuery } from '../../src/admin/audit-filter.js';
import type { NewAuditEvent } from '../../src/storage/queries.js';
import { viewsDir } from '../../src/paths.js';

/** A strict RFC 4180 parser: quoted fields may hold commas, CRLF and doubled quotes; records end with CRLF. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`quote inside an unquoted field at ${i}`);
        field += text[i++];
      }
    }
    record.push(field);
    if (text[i] === ',') { i++; continue; }
    if (text.startsWith('\r\n', i)) { i += 2; records.push(record); record = []; continue; }
    throw new Error(`expected a comma or CRLF at ${i}, got ${JSON.stringify(text[i])}`);
  }
  if (record.length) throw new Error('last record not ended by CRLF');
  return records;
}

const EVIL = 'eve\r\n2025-01-01 login.succeeded admin\u001b[31mred\u001b[0m\u009b2J';

function row(overrides: Partial<AuditRow> = {}): AuditRow {
  return {
    id: 7,
    occurredAt: '2025-12-04T10:15:00.123Z',
    event: 'password.failed',
    accountId: null,
    username: null,
    actorId: null,
    actorUsername: null,
    ip: '203.0.113.9',
    userAgent: 'Mozilla/5.0',
    clientId: null,
    details: {},
    ...overrides,
  };
}

describe('audit CSV', function () {
  it('quotes cells with a comma, a quote or a line break and doubles inner quotes (RFC 4180)', function () {
    expect(csvCell('plain')).to.equal('plain');
    expect(csvCell('a,b')).to.equal('"a,b"');
    expect(csvCell('say "hi"')).to.equal('"say ""hi"""');
    expect(csvCell('two\r\nlines')).to.equal('"two\r\nlines"');
    expect(csvCell('lf\nonly')).to.equal('"lf\nonly"');
    expect(csvCell(null)).to.equal('');
    expect(csvCell(42)).to.equal('42');
    expect(csvLine(['a', 'b,c', null])).to.equal('a,"b,c",\r\n');
  });

  it('prefixes cells that start like a formula with a single quote (OWASP CSV injection)', function () {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      const value = `${start}HYPERLINK("http://evil.example","x")`;
      const [[cell]] = parseCsv(csvLine([value])) as [[string]];
      expect(cell, JSON.stringify(start)).to.equal(`'${value}`);
    }
    expect(csvCell('a=b')).to.equal('a=b');
    expect(csvCell("'already")).to.equal("'already");
  });

  it('parses back to the same values, whatever they hold', function () {
    const values = ['', 'x', ',', '"', '""', 'a\r\nb', '\n', ' spaced ', 'ünïcödé 🙂', '{"a":"b,c"}'];
    const parsed = parseCsv(values.map((v) => csvLine([v, v])).join(''));
    expect(parsed).to.deep.equal(values.map((v) => [v, v]));
  });

  it('writes the header and one record per event, details as JSON, formulas defused', function () {
    const csv = auditCsv([
      row({ accountId: '0b7f0c8e-6b36-4d55-8f4c-2d1f0f6a9c11', username: '=cmd|calc', userAgent: '@SUM(1,2)', clientId: '+client', details: { note: 'a, "quoted" value' } }),
      row({ id: 6, event: 'login.succeeded', details: { acr: 'urn:twofold:loa:3', amr: ['pwd', 'otp', 'mfa'] } }),
    ]);
    const [header, first, second, ...rest] = parseCsv(csv);
    expect(rest).to.deep.equal([]);
    expect(header).to.deep.equal([...AUDIT_CSV_COLUMNS]);
    expect(first).to.deep.equal(['7', '2025-12-04T10:15:00.123Z', 'password.failed', '0b7f0c8e-6b36-4d55-8f4c-2d1f0f6a9c11', "'=cmd|calc", '', '', '203.0.113.9', "'@SUM(1,2)", "'+client", '{"note":"a, \\"quoted\\" value"}']);
    expect(JSON.parse(second![10]!)).to.deep.equal({ acr: 'urn:twofold:loa:3', amr: ['pwd', 'otp', 'mfa'] });
  });
});

describe('audit text against log injection (ASVS 16.4.1)', function () {
  it('keeps a username with CR/LF and ANSI escapes in a detail intact in storage and as one JSON log line', async function () {
    const stored: NewAuditEvent[] = [];
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
    const audit = createAuditLog({ auditEvents: { record: async (events: NewAuditEvent | readonly NewAuditEvent[]) => { stored.push(...[events].flat()); }, list: async () => [] } }, pino({ level: 'info' }, sink));
    await audit.record('password.failed', { ip: '203.0.113.9', userAgent: 'ua\u001b[2J', clientId: undefined }, null, { username: EVIL });

    expect(stored[0]!.details).to.deep.equal({ username: EVIL }); // stored as typed: the record is evidence
    const out = lines.join('');
    expect(out.endsWith('\n')).to.equal(true);
    expect(out.slice(0, -1)).not.to.match(/[\r\n\u001b\u2028\u2029]/);
    const entry = JSON.parse(out) as Record<string, unknown>;
    expect(entry['username']).to.equal(EVIL);
    expect(entry['audit']).to.equal('password.failed');
  });

  it('shows every control character as \\uXXXX in the table and the CSV', function () {
    const evil = row({ userAgent: `Evil\u001b[0m ${'x'.repeat(80)}`, details: { username: EVIL, html: '<script>alert(1)</script>' } });
    expect(showControls('a\r\nb\u001b\u007f\u0085\u2028')).to.equal('a\\u000d\\u000ab\\u001b\\u007f\\u0085\\u2028');

    const csv = auditCsv([evil]);
    expect(csv.replace(/\r\n/g, '')).not.to.match(/[\u0000-\u001f\u007f-\u009f]/);
    const details = parseCsv(csv)[1]![10]!;
    expect(details).to.contain('eve\\r\\n2025-01-01').and.contain('\\u001b[31mred').and.contain('\\u009b2J');
    expect(JSON.parse(details)).to.deep.equal(evil.details); // still exact JSON

    const html = pug.renderFile(path.join(viewsDir, 'admin/audit.pug'), {
      basedir: viewsDir, title: 'Audit log', events: AUDIT_EVENTS, defaultSize: 50, size: 50, maxExport: 10000, csrfToken: 't',
      raw: { account: '', event: '', from: '', to: '' }, rows: [displayRow(evil)], csvHref: '/c', jsonHref: '/j',
    });
    const body = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
    expect(body).not.to.match(/[\u0000-\u001f\u007f-\u009f]/);
    expect(body).to.contain('eve\\r\\n2025-01-01 login.succeeded admin\\u001b[31mred').and.contain('\\u009b2J');
    expect(body).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;').and.not.contain('<script>');
    // The user agent is cut short in the cell, whole in the title.
    expect(body).to.match(/<span title="Evil\\u001b\[0m x{80}">Evil\\u001b\[0m x+…<\/span>/);
  });
});

describe('audit filters', function () {
  it('reads datetime-local values as UTC, whatever the server time zone, and refuses impossible dates', function () {
    const parsed = parseAuditQuery({ from: '2025-06-01T12:00', to: '2025-06-01T12:00:30.5' });
    expect(parsed.status).to.equal('OK');
    if (parsed.status !== 'OK') return;
    expect([parsed.query.from?.toISOString(), parsed.query.to?.toISOString()]).to.deep.equal(['2025-06-01T12:00:00.000Z', '2025-06-01T12:00:30.500Z']);
    for (const bad of ['2025-02-29T00:00', '2025-04-31T10:00', '2025-01-01T24:00', '2025-01-01 10:00', '2025-01-01T10:00Z', '0999-01-01T00:00']) {
      expect(parseAuditQuery({ from: bad }).status, bad).to.equal('INVALID');
    }
  });

  it('keeps the filters, not the cursor, in links; "any" event and the default size are left out', function () {
    const parsed = parseAuditQuery({ account: 'ada', event: 'any', from: '', before: '42', size: '10' });
    if (parsed.status !== 'OK') throw new Error('expected OK');
    expect(filterQueryString(parsed.query, { before: 7 })).to.equal('?account=ada&size=10&before=7');
    const plain = parseAuditQuery({});
    if (plain.status !== 'OK') throw new Error('expected OK');
    expect([filterQueryString(plain.query), plain.query.size]).to.deep.equal(['', 50]);
  });
});
