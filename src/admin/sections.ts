// The sections of the admin console, in the order of its menu; each registers its routes on the /admin router.
import type Router from '@koa/router';
import type { AdminDeps } from './routes.js';
import { registerClientsSection } from './clients-routes.js';
import { addAccountsSection } from './accounts-routes.js';
import { addAuditSection } from './audit-routes.js';

export const ADMIN_SECTIONS: ((router: Router, deps: AdminDeps) => void)[] = [registerClientsSection, addAccountsSection, addAuditSection];
