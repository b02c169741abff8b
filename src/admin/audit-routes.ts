// /admin/audit: the audit log, filtered by account, event and time, paged by cursor, and exported as CSV or JSON.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { AUDIT_EVENTS } from '../security/audit.js';
import type { AdminDeps } from './routes.js';
import { DEFAULT_AUDIT_PAGE, filterQueryString, parseAuditQuery, type AuditQuery } from './audit-filter.js';
import { exportAuditRows, loadAuditRows, MAX_EXPORT_ROWS, type AuditSelection } from './audit-rows.js';
import { displayRow } from './audit-display.js';
import { auditCsv } from './audit-csv.js';

type Selected = { status: 'OK'; query: AuditQuery; selection: AuditSelection } | { status: 'INVALID'; raw: AuditQuery['raw']; problems: string[]; httpStatus: number };

/** Registers GET /admin/audit, /admin/audit/export.csv and /admin/audit/export.json (reading only, so GET). */
export function addAuditSection(router: Router, deps: AdminDeps): void {
  router.get('/audit', async (ctx) => {
    const selected = await select(deps, ctx);
    if (selected.status === 'INVALID') {
      ctx.status = selected.httpStatus;
      return renderAudit(ctx, { raw: selected.raw, size: DEFAULT_AUDIT_PAGE, problems: selected.problems });
    }
    const { query, selection } = selected;
    // One more than the page, to know whether an "Older events" link leads anywhere.
    const rows = await loadAuditRows(deps.queries, { ...selection, limit: query.size + 1 });
    const page = rows.slice(0, query.size);
    const last = page[page.length - 1];
    return renderAudit(ctx, {
      raw: query.raw,
      size: query.size,
      rows: page.map(displayRow),
      olderHref: rows.length > query.size && last ? `/admin/audit${filterQueryString(query, { before: last.id })}` : undefined,
      newestHref: query.before !== undefined ? `/admin/audit${filterQueryString(query)}` : undefined,
      csvHref: `/admin/audit/export.csv${filterQueryString(query)}`,
      jsonHref: `/admin/audit/export.json${filterQueryString(query)}`,
    });
  });

  router.get('/audit/export.csv', async (ctx) => {
    const selected = await select(deps, ctx);
    if (selected.status === 'INVALID') return refuseExport(ctx, selected, 'text');
    const { rows, truncated } = await exportAuditRows(deps.queries, selected.selection);
    startDownload(ctx, 'csv', truncated);
    ctx.type = 'text/csv; charset=utf-8; header=present';
    ctx.body = auditCsv(rows);
  });

  router.get('/audit/export.json', async (ctx) => {
    const selected = await select(deps, ctx);
    if (selected.status === 'INVALID') return refuseExport(ctx, selected, 'json');
    const { rows, truncated } = await exportAuditRows(deps.queries, selected.selection);
    startDownload(ctx, 'json', truncated);
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = JSON.stringify({ events: rows, truncated });
  });
}

// Reads the filters and turns the username into an account id; an unknown username is a message, not an error page.
async function select(deps: AdminDeps, ctx: Context): Promise<Selected> {
  const parsed = parseAuditQuery(ctx.query);
  if (parsed.status === 'INVALID') return { ...parsed, httpStatus: 400 };
  const { query } = parsed;
  let accountId: string | undefined;
  if (query.username !== undefined) {
    const account = await deps.queries.accounts.findByUsername(query.username);
    if (!account) return { status: 'INVALID', raw: query.raw, problems: [`No account has the username “${query.username}”.`], httpStatus: 200 };
    accountId = account.id;
  }
  return { status: 'OK', query, selection: { accountId, event: query.event, from: query.from, to: query.to, before: query.before } };
}

async function renderAudit(ctx: Context, locals: Record<string, unknown>): Promise<void> {
  await ctx.render('admin/audit', { title: 'Audit log', events: AUDIT_EVENTS, defaultSize: DEFAULT_AUDIT_PAGE, maxExport: MAX_EXPORT_ROWS, ...locals });
}

// Exports are downloads of every security event: never cached, and named after the moment they were taken.
function startDownload(ctx: Context, extension: 'csv' | 'json', truncated: boolean): void {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  ctx.set('Content-Disposition', `attachment; filename="twofold-audit-${stamp}.${extension}"`);
  ctx.set('Cache-Control', 'no-store');
  // Said in a header so the CSV itself holds only events (a comment line would break spreadsheets and parsers).
  ctx.set('X-Twofold-Truncated', String(truncated));
}

function refuseExport(ctx: Context, selected: Extract<Selected, { status: 'INVALID' }>, form: 'text' | 'json'): void {
  ctx.status = 400;
  ctx.set('Cache-Control', 'no-store');
  if (form === 'json') ctx.body = { error: 'invalid_filter', problems: selected.problems };
  else {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = `${selected.problems.join('\n')}\n`;
  }
}
