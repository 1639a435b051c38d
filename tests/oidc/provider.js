// A real OpenID Connect provider for callrec's single sign-on tests: panva's oidc-provider
// (certified), with one static confidential client that must use PKCE, and a minimal login
// page of our own that posts a username and password (the provider's development pages load
// web fonts, which a closed test network cannot reach); consent is granted without a page.
//
// Environment: PORT (0: any free port), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI (a loopback
// URI; as for native apps, RFC 8252, any port of it is accepted), USERS_FILE: a JSON object
// {"username": {"password", "name", "groups": [...]}} read at every login, so a test changes
// someone's groups by rewriting the file. Prints "listening <issuer>" once it serves.

import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const users = () => JSON.parse(readFileSync(process.env.USERS_FILE, 'utf8'));

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(uid, message) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><main>
<h1>Test identity provider</h1>
${message ? `<p role="alert">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<p><label for="login">Username</label> <input id="login" name="login" autocomplete="username" required autofocus></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form>
</main></body></html>`;
}

function formBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

async function listen() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(Number(process.env.PORT || 0), '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      application_type: 'native', // loopback redirect URIs on any port (RFC 8252)
      redirect_uris: [process.env.REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'groups'],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], groups: ['groups'] },
    conformIdTokenClaims: false, // the groups travel in the ID token, as Entra ID and Keycloak send them
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      const user = users()[sub];
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, name: user.name, preferred_username: sub, groups: user.groups }),
      };
    },
  });
  const handle = provider.callback();
  server.on('request', async (req, res) => {
    const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(req.url);
    if (!match) return handle(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'consent') {
        // The test client is first-party: grant what it asked for, with no consent page.
        const grant = new provider.Grant({
          accountId: details.session.accountId, clientId: details.params.client_id,
        });
        grant.addOIDCScope(details.params.scope);
        const grantId = await grant.save();
        return await provider.interactionFinished(req, res, { consent: { grantId } });
      }
      if (req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        return res.end(page(details.uid));
      }
      const form = await formBody(req);
      const user = users()[form.get('login')];
      if (!user || user.password !== form.get('password')) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        return res.end(page(details.uid, 'Wrong username or password.'));
      }
      return await provider.interactionFinished(
        req, res, { login: { accountId: form.get('login') } }, { mergeWithLastSubmission: false },
      );
    } catch (error) {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      return res.end(String(error.message));
    }
  });
  console.log(`listening ${issuer}`);
}

listen();
