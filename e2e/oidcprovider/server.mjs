// server.mjs — panva's oidc-provider (pinned in package.json) for sesame's
// end-to-end suite, on 127.0.0.1 only, with its in-memory adapter.
//
//   OP_PORT      the authorization server's port (issuer http://127.0.0.1:OP_PORT)
//   OP_API_PORT  a small protected API: GET /v1/me (who the bearer token
//                belongs to, looked up in the provider) and RFC 9728 metadata
//   OP_CC_SECRET the secret of the pre-registered client "e2e-ci"
//                (client_credentials, scope api:read)
//   OP_ACCESS_TTL access token lifetime in seconds (default 60)
//
// Features: discovery, dynamic registration (RFC 7591), device flow
// (RFC 8628), authorization code + PKCE, refresh token rotation,
// revocation (RFC 7009), client credentials, resource indicators
// (RFC 8707; every token is for the API). The login and consent pages are
// plain HTML forms: any username is accepted (password ignored) and every
// requested scope is granted, so a scripted browser can get through them.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT);
const apiPort = Number(process.env.OP_API_PORT);
const issuer = `http://127.0.0.1:${port}`;
const api = `http://127.0.0.1:${apiPort}`;
const ttl = Number(process.env.OP_ACCESS_TTL || 60);

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'e2e-ci',
    client_secret: process.env.OP_CC_SECRET || 'e2e-ci-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'api:read',
  }],
  scopes: ['openid', 'offline_access', 'api:read'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return { sub: id, email: `${id}@example.com`, email_verified: true }; } };
  },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
    registration: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => api,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (resource !== api) throw new Provider.errors.InvalidTarget();
        return { scope: 'api:read', audience: api, accessTokenTTL: ttl, accessTokenFormat: 'opaque' };
      },
    },
  },
  pkce: { required: () => true },
  ttl: { AccessToken: ttl, ClientCredentials: ttl, DeviceCode: 600, Interaction: 600, Grant: 3600, Session: 3600, RefreshToken: 3600, AuthorizationCode: 60, IdToken: 3600 },
  rotateRefreshToken: true,
  async issueRefreshToken(ctx, client, code) {
    return client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access');
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['sesame-e2e-cookie-key-0123456789'] },
});

// The interaction app: login (any user), then consent to everything asked.
async function interaction(req, res) {
  const url = new URL(req.url, issuer);
  const m = url.pathname.match(/^\/interaction\/([^/]+)(\/login|\/confirm)?$/);
  if (!m) return false;
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (req.method === 'GET') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    if (prompt.name === 'login') {
      res.end(page('Sign in', `<form method="post" action="/interaction/${esc(uid)}/login"><input name="username" value=""><input name="password" type="password"><button type="submit">Sign in</button></form>`));
    } else {
      res.end(page('Consent', `<p>${esc(params.client_id)} asks for ${esc(params.scope || '')}</p><form method="post" action="/interaction/${esc(uid)}/confirm"><button type="submit">Allow</button></form>`));
    }
    return true;
  }
  const body = await new Promise((resolve) => { let b = ''; req.on('data', (c) => { b += c; }); req.on('end', () => resolve(new URLSearchParams(b))); });
  if (m[2] === '/login') {
    const user = body.get('username') || 'alice';
    await provider.interactionFinished(req, res, { login: { accountId: user } }, { mergeWithLastSubmission: false });
    return true;
  }
  let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  if (!grant) grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  return true;
}

const callback = provider.callback();
http.createServer(async (req, res) => {
  try {
    if (await interaction(req, res)) return;
  } catch (err) {
    res.statusCode = 400;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(page('Interaction failed', esc(err.message)));
    return;
  }
  callback(req, res);
}).listen(port, '127.0.0.1');

// The protected API.
const json = (res, status, v, headers = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(v));
};
http.createServer(async (req, res) => {
  const url = new URL(req.url, api);
  if (url.pathname === '/.well-known/oauth-protected-resource') {
    return json(res, 200, { resource: api, authorization_servers: [issuer], scopes_supported: ['api:read'], bearer_methods_supported: ['header'] });
  }
  if (url.pathname !== '/v1/me') return json(res, 404, { error: 'not_found' });
  const [scheme, tok] = (req.headers.authorization || '').split(' ');
  const deny = (desc) => json(res, 401, { error: 'invalid_token', error_description: desc },
    { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${desc}", resource_metadata="${api}/.well-known/oauth-protected-resource"` });
  if (!/^bearer$/i.test(scheme || '') || !tok) return deny('no bearer token');
  const at = (await provider.AccessToken.find(tok)) || (await provider.ClientCredentials.find(tok));
  if (!at || at.isExpired) return deny('the token is not active');
  if (at.aud !== api && !(Array.isArray(at.aud) && at.aud.includes(api))) return deny('the token is not for this API');
  if (at.accountId) {
    return json(res, 200, { sub: at.accountId, email: `${at.accountId}@example.com`, client_id: at.clientId, scope: at.scope });
  }
  return json(res, 200, { sub: at.clientId, client_id: at.clientId, scope: at.scope });
}).listen(apiPort, '127.0.0.1');

console.log(`oidc-provider ${issuer}, API ${api}`);
