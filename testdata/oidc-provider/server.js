// An independent OpenID Connect provider for Tango's sign-in tests: the
// npm package oidc-provider with one confidential client and the users
// given in the environment. Its development login form (devInteractions)
// signs in any configured user by name, so a test's HTTP client can log in
// without a browser; consent is given at once (the client is first-party).
//
//   node server.js PORT
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI: the client
//   OIDC_USERS: {"alice": {"email": "...", "email_verified": true,
//                "name": "...", "groups": ["..."]}, ...}
//   OIDC_COOKIE_KEY: the key its cookies are signed with
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node server.js PORT');
  process.exit(2);
}
const need = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return v;
};
const users = JSON.parse(need('OIDC_USERS'));
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: need('OIDC_CLIENT_ID'),
    client_secret: need('OIDC_CLIENT_SECRET'),
    redirect_uris: [need('OIDC_REDIRECT_URI')],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  // Every client must use PKCE (S256 is the only method allowed).
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // The ID token carries the claims of the scopes asked for (not only
  // userinfo does).
  conformIdTokenClaims: false,
  cookies: { keys: [process.env.OIDC_COOKIE_KEY || randomBytes(16).toString('hex')] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const u = users[id];
    if (!u) return undefined;
    return {
      accountId: id,
      async claims() { return { sub: id, ...u }; },
    };
  },
  // First-party client: consent is given without asking.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'groups']);
    await grant.save();
    return grant;
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`listening ${port}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
