// A real OpenID Connect provider for the single sign-on tests: `oidc-provider`
// (pinned in package.json) with one static client, PKCE required, its own
// one-step login form, and test-only endpoints to rotate the signing key, set
// the accounts and their groups, and spoil the next ID token.
//
//   PORT=0 CLIENT_ID=monitor CLIENT_SECRET=s REDIRECT_URIS=http://localhost/sso/callback \
//     WATCH_STDIN=1 node tests/oidc/provider.mjs
//
// It listens on 127.0.0.1 only and prints one JSON line, {"port": P, "issuer": "http://127.0.0.1:P"}.
// With WATCH_STDIN=1 it exits when its stdin closes, so a killed test run leaves no orphan.
//
// Test endpoints (POST, JSON body, answer JSON):
//   /__test__/accounts  {"accounts": [{"sub", "email", "name", "groups"}]}    replaces every account
//   /__test__/client    {"redirect_uris": [...]}                              the client's redirect URIs
//   /__test__/rotate    {"keep_old": false}                                   a new signing key (first in the JWKS)
//   /__test__/tamper    {"claims": {...}, "unpublished_key": false}           re-sign the next ID token once
//   /__test__/reset     {}                                                    nothing armed by /tamper any more
//   /__test__/stats     {}                                                    how often discovery and the JWKS were read
//
// Rotating a key or changing the client builds a new Provider around the same
// in-memory storage (module level in oidc-provider's memory adapter).

import { createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const clientId = process.env.CLIENT_ID || 'monitor';
const clientSecret = process.env.CLIENT_SECRET || 'test-client-secret';
let redirectUris = (process.env.REDIRECT_URIS || 'http://localhost/sso/callback').split(',').filter(Boolean);

function newKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `key-${randomUUID()}`, alg: 'RS256', use: 'sig' };
}

const state = {
  keys: [newKey()],
  accounts: new Map(), // sub -> {sub, email, name, groups}
  tamper: null, // {claims, unpublished_key} for the next ID token only
  stats: { discovery: 0, jwks: 0, token: 0 },
};

let issuer = '';
let provider = null;
let handle = null;

function accountByEmail(email) {
  const wanted = String(email || '').trim().toLowerCase();
  return [...state.accounts.values()].find((account) => account.email.toLowerCase() === wanted);
}

function resign(idToken) {
  const tamper = state.tamper;
  state.tamper = null;
  const payload = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString());
  Object.assign(payload, tamper.claims || {});
  const jwk = tamper.unpublished_key ? { ...newKey(), kid: `unpublished-${randomUUID()}` } : state.keys[0];
  return signRs256(payload, jwk);
}

// A compact JWS (RS256) with node's own crypto, so the script needs nothing beyond oidc-provider.
function signRs256(payload, jwk) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' })}.${encode(payload)}`;
  const signature = sign('sha256', Buffer.from(input), createPrivateKey({ key: jwk, format: 'jwk' }));
  return `${input}.${signature.toString('base64url')}`;
}

function build() {
  const built = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: state.keys },
    pkce: { required: () => true },
    // Scope claims and groups in the ID token itself, as Entra ID sends them.
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub', 'groups'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    cookies: { keys: ['test-only-cookie-key-not-a-secret'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const account = state.accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: account.email,
            email_verified: true,
            name: account.name,
            ...(account.groups ? { groups: account.groups } : {}),
          };
        },
      };
    },
  });
  built.use(async (ctx, next) => {
    if (ctx.path === '/.well-known/openid-configuration') state.stats.discovery += 1;
    if (ctx.path === '/jwks') state.stats.jwks += 1;
    await next();
    if (ctx.path === '/token' && ctx.body && ctx.body.id_token) {
      state.stats.token += 1;
      if (state.tamper) ctx.body = { ...ctx.body, id_token: resign(ctx.body.id_token) };
    }
  });
  provider = built;
  handle = built.callback();
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(type === 'application/json' ? JSON.stringify(body) : body);
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, problem = '') {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider: sign in</title></head>
<body><main>
<h1>Test identity provider</h1>
${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}">
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username">
<button type="submit">Sign in at the provider</button>
</form>
</main></body></html>`;
}

async function interaction(req, res, uid) {
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') return send(res, 200, loginPage(uid), 'text/html; charset=utf-8');
    const form = new URLSearchParams(await readBody(req));
    const account = accountByEmail(form.get('email'));
    if (!account) return send(res, 400, loginPage(uid, 'No account has that email address'), 'text/html; charset=utf-8');
    // One step: signing in also grants every scope the client asked for.
    const grant = new provider.Grant({ accountId: account.sub, clientId: details.params.client_id });
    grant.addOIDCScope(String(details.params.scope || 'openid'));
    const grantId = await grant.save();
    return await provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.sub }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  } catch (error) {
    return send(res, 400, `interaction failed: ${escapeHtml(error.message)}`, 'text/plain; charset=utf-8');
  }
}

async function testEndpoint(req, res, name) {
  if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
  const text = await readBody(req);
  const body = text ? JSON.parse(text) : {};
  switch (name) {
    case 'accounts':
      state.accounts = new Map((body.accounts || []).map((account) => [account.sub, account]));
      return send(res, 200, { accounts: state.accounts.size });
    case 'client':
      redirectUris = body.redirect_uris;
      build();
      return send(res, 200, { redirect_uris: redirectUris });
    case 'rotate': {
      const key = newKey();
      state.keys = body.keep_old ? [key, ...state.keys] : [key];
      build();
      return send(res, 200, { kid: key.kid, kids: state.keys.map((k) => k.kid) });
    }
    case 'tamper':
      state.tamper = { claims: body.claims || {}, unpublished_key: Boolean(body.unpublished_key) };
      return send(res, 200, { armed: true });
    case 'reset':
      state.tamper = null;
      return send(res, 200, { armed: false });
    case 'stats':
      return send(res, 200, { ...state.stats, kids: state.keys.map((k) => k.kid) });
    default:
      return send(res, 404, { error: `no test endpoint ${name}` });
  }
}

const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  const test = path.match(/^\/__test__\/([a-z]+)$/);
  if (test) {
    testEndpoint(req, res, test[1]).catch((error) => send(res, 400, { error: error.message }));
    return;
  }
  const login = path.match(/^\/interaction\/([A-Za-z0-9_-]+)$/);
  if (login) {
    interaction(req, res, login[1]);
    return;
  }
  handle(req, res);
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  issuer = `http://127.0.0.1:${port}`;
  build();
  process.stdout.write(`${JSON.stringify({ port, issuer })}\n`);
});

if (process.env.WATCH_STDIN === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
}
