// First-party clients (registered with first_party) skip the consent page: their grant is created here.
import type { KoaContextWithOIDC, Grant } from 'oidc-provider';

/** Returns the session's grant for the client; for a first-party client, extends it to what was requested. */
export async function loadGrantForFirstParty(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const { oidc } = ctx;
  const client = oidc.client!;
  const accountId = oidc.session?.accountId;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (grant && grant.accountId !== accountId) grant = undefined;
  if (!isFirstParty(client) || !accountId) return grant;

  grant ??= new oidc.provider.Grant({ clientId: client.clientId, accountId });
  const missingScopes = [...oidc.requestParamOIDCScopes].filter((scope) => !grant.getOIDCScope().split(' ').includes(scope));
  const missingClaims = oidc.requestParamClaims ? [...oidc.requestParamClaims].filter((claim) => !grant.getOIDCClaims().includes(claim)) : [];
  if (missingScopes.length || missingClaims.length || !grant.jti) {
    if (missingScopes.length) grant.addOIDCScope(missingScopes.join(' '));
    if (missingClaims.length) grant.addOIDCClaims(missingClaims);
    await grant.save();
  }
  return grant;
}

/** Whether a client was registered as first-party (an application of the same organisation). */
export function isFirstParty(client: { [key: string]: unknown }): boolean {
  return client['first_party'] === true;
}
