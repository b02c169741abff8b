// The four-step setup wizard (user guide, section 2), and postponing it.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../../errors.js';
import { requestedAcrRank } from '../../oidc/acr.js';
import { normalizeEmail } from '../../account/validate-profile.js';
import { requestOrigin } from '../../security/audit.js';
import { createTotpSecret, groupSecret, totpQrCode } from '../../security/totp.js';
import { completeLogin } from '../complete-login.js';
import type { InteractionDeps } from '../deps.js';
import type { LoginState, SetupStep } from '../login-state.js';
import { loadInteractionAndState, type InteractionDetails } from '../load-interaction.js';
import { countWrongCode } from '../count-wrong-code.js';
import { planSecondFactor } from '../second-factor/plan-second-factor.js';
import { connectAuthenticator } from './connect-authenticator.js';
import { postponeSetup } from './postpone-setup.js';
import { sendVerificationLink } from '../../account/email-verification.js';

export const AUTHENTICATOR_APPS = ['Microsoft Authenticator', 'Google Authenticator', 'LastPass Authenticator', 'Duo Mobile', 'Authy'];

/** Renders the wizard page for the login's current setup step. */
export async function showSetup(deps: InteractionDeps, ctx: Context, details: InteractionDetails, state: LoginState, form: { error?: string; email?: string } = {}): Promise<void> {
  const account = await deps.queries.accounts.findById(state.accountId);
  if (!account) throw new AppError('INTERACTION_EXPIRED');
  const base = { uid: details.uid, error: form.error };
  switch (state.setup?.step) {
    case 'install': {
      const plan = planSecondFactor({ account, hasTotp: false, requestedRank: requestedAcrRank(details.params) });
      const postpone = plan.kind === 'SETUP' ? plan.postpone : { allowed: false as const, reason: 'NOT_SYSADMIN' as const };
      return ctx.render('setup/install', { ...base, title: 'Step 1 of 4: Install an authenticator app', apps: AUTHENTICATOR_APPS, postpone });
    }
    case 'connect': {
      if (!state.setup.sealedSecret) throw new AppError('INTERACTION_EXPIRED');
      const secret = deps.loginState.openSecret(details.uid, account.id, state.setup.sealedSecret);
      const qr = await totpQrCode({ issuer: deps.config.totpIssuer, accountName: account.username, secret });
      return ctx.render('setup/connect', { ...base, title: 'Step 2 of 4: Connect your authenticator app', qr, secret, groups: groupSecret(secret) });
    }
    case 'confirm':
      return ctx.render('setup/confirm', { ...base, title: 'Step 3 of 4: Confirm setup' });
    case 'email':
      return ctx.render('setup/email', { ...base, title: 'Step 4 of 4: Verify your back-up email', name: account.name, email: form.email ?? account.email });
    default:
      throw new AppError('INTERACTION_EXPIRED');
  }
}

/** Registers the wizard's form targets under /interaction/:uid/setup/. */
export function addSetupRoutes(router: Router, deps: InteractionDeps): void {
  // Loads the interaction and the login state, and refuses a form posted from any step but `step`.
  async function atStep(ctx: Context, step: SetupStep) {
    const [details, state] = await loadInteractionAndState(deps, ctx, 'login');
    if (!state?.setup || state.setup.step !== step) throw new AppError('INTERACTION_EXPIRED');
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    return { details, state, setup: state.setup, body, origin: requestOrigin(ctx, details.params['client_id']) };
  }
  const nextPage = (ctx: Context, uid: string) => {
    ctx.status = 303;
    ctx.redirect(`/interaction/${uid}`);
  };

  router.post('/interaction/:uid/setup/next', async (ctx) => {
    const { details, state } = await atStep(ctx, 'install');
    // A new secret for every enrolment (RFC 6238 §3); it stays pending, and unusable, until a code proves it.
    const sealedSecret = deps.loginState.sealSecret(details.uid, state.accountId, createTotpSecret());
    await deps.loginState.save(details.uid, { ...state, setup: { step: 'connect', sealedSecret } });
    nextPage(ctx, details.uid);
  });

  router.post('/interaction/:uid/setup/connect', async (ctx) => {
    const { details, state, setup, body, origin } = await atStep(ctx, 'connect');
    const secret = deps.loginState.openSecret(details.uid, state.accountId, setup.sealedSecret ?? '');
    const result = await connectAuthenticator({ queries: deps.queries, clock: deps.clock }, { accountId: state.accountId, secret, code: body['code'] });
    if (result.status === 'CONNECTED') {
      await deps.audit.record('mfa.connected', origin, state.accountId);
      // A binding is announced on a separate channel: a first enrolment is protected by the password alone.
      const account = await deps.queries.accounts.findById(state.accountId);
      if (account) {
        const sent = await deps.mailer.send({ to: account.email, template: 'mfa-connected', locals: { name: account.name, when: new Date(deps.clock()) } });
        if (sent.status !== 'SENT') deps.logger.warn({ accountId: account.id, event: 'notify.mfa_connected' }, 'could not send the connection notice');
      }
      // The pending secret is dropped from the state: the key and QR code are never shown again.
      await deps.loginState.save(details.uid, { ...state, codeFailures: 0, setup: { step: 'confirm', connected: true } });
      return nextPage(ctx, details.uid);
    }
    ctx.status = 400;
    if (result.status === 'INVALID_FORMAT') return showSetup(deps, ctx, details, state, { error: 'FORMAT' });
    const next = await countWrongCode(deps, ctx, details, state);
    if (next) return showSetup(deps, ctx, details, next, { error: 'WRONG' });
  });

  router.post('/interaction/:uid/setup/confirm', async (ctx) => {
    const { details, state } = await atStep(ctx, 'confirm');
    await deps.loginState.save(details.uid, { ...state, setup: { step: 'email', connected: true } });
    nextPage(ctx, details.uid);
  });

  router.post('/interaction/:uid/setup/email', async (ctx) => {
    const { details, state, setup, body, origin } = await atStep(ctx, 'email');
    if (!setup.connected) throw new AppError('INTERACTION_EXPIRED');
    const email = normalizeEmail(body['email']);
    if (!email) {
      ctx.status = 400;
      return showSetup(deps, ctx, details, state, { error: 'EMAIL', email: typeof body['email'] === 'string' ? body['email'] : '' });
    }
    const account = await deps.queries.accounts.findById(state.accountId);
    const updated = account && account.email !== email ? await deps.queries.accounts.updateProfile(state.accountId, { email }) : account;
    if (account && updated && updated !== account) {
      await deps.audit.record('account.email_changed', origin, account.id, { via: 'setup' });
      // The old address hears of it, as from Edit profile (ASVS 6.3.7): whoever has the password could be setting up.
      const notice = await deps.mailer.send({ to: account.email, template: 'email-changed', locals: { name: account.name, oldEmail: account.email, newEmail: email } });
      if (notice.status !== 'SENT') deps.logger.warn({ accountId: account.id, event: 'notify.email_changed' }, 'could not send the email change notice');
    }
    // The address becomes a back-up only once its owner clicks the link; a failed send is retried from Your settings.
    if (updated && !updated.emailVerifiedAt) {
      const sent = await sendVerificationLink({ store: deps.store, mailer: deps.mailer, issuer: deps.issuer }, updated);
      if (sent === 'FAILED') deps.logger.warn({ accountId: updated.id, event: 'verify_email.send_failed' }, 'could not send the email verification link');
    }
    return completeLogin(deps, ctx, { interaction: details, accountId: state.accountId, method: 'totp', origin });
  });

  router.post('/interaction/:uid/setup/postpone', async (ctx) => {
    const { details, state, origin } = await atStep(ctx, 'install');
    const result = await postponeSetup({ queries: deps.queries }, { accountId: state.accountId, params: details.params });
    if (result.status === 'REFUSED') {
      ctx.status = 403;
      return showSetup(deps, ctx, details, state, { error: 'POSTPONE_REFUSED' });
    }
    await deps.audit.record('mfa.postponed', origin, state.accountId, { left: result.left });
    return completeLogin(deps, ctx, { interaction: details, accountId: state.accountId, method: 'password', origin });
  });
}
