// The console's routes: every form posts to the path of the page that shows it, which "Confirm it's you" returns to.
import { expect } from 'chai';
import { createAdminRouter, type AdminDeps } from '../../src/admin/routes.js';
import { ADMIN_SECTIONS } from '../../src/admin/sections.js';

describe('the admin console routes', function () {
  it('serves every POST path with a GET too, so a change sent to confirm first can come back to its form', function () {
    // The routes only read their dependencies when a request comes; none comes here.
    const router = createAdminRouter({} as AdminDeps, ADMIN_SECTIONS);
    const routes = router.stack.filter((layer) => layer.methods.length > 0);
    const posts = routes.filter((layer) => layer.methods.includes('POST')).map((layer) => layer.path);
    expect(posts.length, 'the console has forms').to.be.greaterThan(5);
    for (const path of posts) {
      expect(routes.some((layer) => layer.path === path && layer.methods.includes('GET')), `GET ${path}`).to.equal(true);
    }
  });
});
