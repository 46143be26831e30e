// The sign-in page's script: plain browser JavaScript, no build step. It signs in with the
// official Auth0 SPA SDK (global `auth0`, from its UMD build) exactly as an Auth0 SPA does, and
// shows which token goes where. Tokens stay in the SDK's in-memory cache; nothing here writes a
// token to storage or to the console.
'use strict';

(() => {
  const element = (id) => document.getElementById(id);
  /**
   * @type {{ domain: string, clientId: string | null, audience: string, scope: string,
   *   stepUp: { acr: string, maxAge: number } }}
   */
  let config;
  /** @type {any} */
  let client;
  /** The signed-in session: raw tokens (memory only) and which sign-in produced them. */
  let session = null;

  const setStatus = (text, isError = false) => {
    const status = element('status');
    status.textContent = text;
    status.className = isError ? 'error' : 'muted';
  };

  const make = (tag, attributes = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    for (const child of children) node.append(child);
    return node;
  };

  /** A JWS (three segments) decoded, without verifying it: for display only. */
  function decodeJwt(token) {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    try {
      const decode = (segment) => {
        const base64 = segment.replace(/-/g, '+').replace(/_/g, '/');
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        return JSON.parse(new TextDecoder().decode(bytes));
      };
      return { header: decode(parts[0]), claims: decode(parts[1]) };
    } catch {
      return undefined;
    }
  }

  const show = (value) => (typeof value === 'string' ? value : JSON.stringify(value));
  const audiences = (aud) => (Array.isArray(aud) ? aud : aud === undefined ? [] : [aud]);
  const when = (seconds) =>
    typeof seconds === 'number' ? ` (${new Date(seconds * 1000).toISOString()})` : '';

  /**
   * The rows of a token's table: [name, value, note, marked]. `marked` rows are the claims that
   * tell an ID token from an access token.
   */
  function rowsFor(kind, header, claims) {
    const rows = [];
    const isId = kind === 'id';
    rows.push([
      'typ (header)',
      header.typ ?? '(absent)',
      isId
        ? 'No at+jwt: an ID token is not explicitly typed as an access token. The API accepts only access tokens.'
        : header.typ === 'at+jwt'
          ? 'at+jwt (RFC 9068): explicit typing says "access token". (Auth0\'s default token profile says JWT.)'
          : "Auth0's default token profile says JWT; its RFC 9068 profile says at+jwt.",
      true,
    ]);
    rows.push([
      'alg, kid (header)',
      `${header.alg}, ${header.kid}`,
      "Signed with the tenant's key, found through its JWKS.",
      false,
    ]);
    const aud = audiences(claims.aud);
    rows.push([
      'aud',
      show(claims.aud),
      isId
        ? `The client id of this page (${config.clientId}): the ID token is for the application. The API wants its own identifier (${config.audience}) here, so it refuses this token.`
        : aud.includes(config.audience)
          ? `Contains the API identifier (${config.audience}, the API's AUTH_AUDIENCE): this token is meant for the API.`
          : `Does not contain the API identifier (${config.audience}): the API refuses it.`,
      true,
    ]);
    rows.push([
      'nonce',
      claims.nonce === undefined ? '(absent)' : show(claims.nonce),
      isId
        ? 'Binds the ID token to this sign-in (the SDK chose it and checked it). Access tokens have none: a nonce is how the API recognises an ID token.'
        : 'No nonce: access tokens have none.',
      true,
    ]);
    rows.push([
      'scope',
      claims.scope === undefined ? '(absent)' : show(claims.scope),
      isId
        ? 'No scope: an ID token grants nothing at an API.'
        : 'What the API checks with @Scopes(): /api/private-scoped requires read:messages.',
      true,
    ]);
    const described = new Set(['aud', 'nonce', 'scope']);
    const notes = {
      iss: 'The tenant that issued it: the same in both tokens.',
      sub: 'The user who signed in: the same in both tokens.',
      azp: 'The application that asked for it.',
      client_id: 'The application that asked for it (RFC 9068).',
      at_hash: 'A hash of the access token issued with it (ID tokens only).',
      sid: 'The session at the identity provider.',
      auth_time: 'When the user signed in.',
      jti: "The token's unique id.",
    };
    for (const [name, value] of Object.entries(claims)) {
      if (described.has(name)) continue;
      const time = ['exp', 'iat', 'nbf', 'auth_time'].includes(name) ? when(value) : '';
      const note =
        notes[name] ??
        (name === 'exp'
          ? 'Expiry.'
          : name === 'iat'
            ? 'Issued at.'
            : isId
              ? 'Profile, for the application.'
              : '');
      rows.push([name, show(value) + time, note, false]);
    }
    return rows;
  }

  function renderTable(rows) {
    const table = make(
      'table',
      {},
      make(
        'tr',
        {},
        make('th', {}, 'claim'),
        make('th', {}, 'value'),
        make('th', {}, 'why it matters'),
      ),
    );
    for (const [name, value, note, marked] of rows) {
      table.append(
        make(
          'tr',
          marked ? { class: 'marked', 'data-claim': name } : { 'data-claim': name },
          make('th', {}, name),
          make('td', { class: 'value' }, value),
          make('td', { class: 'note' }, note),
        ),
      );
    }
    return table;
  }

  function renderPanel(kind, token, audience) {
    const panel = element(kind === 'id' ? 'id-token' : 'access-token');
    const heading = panel.querySelector('h2');
    panel.replaceChildren(heading);
    const decoded = decodeJwt(token);
    if (kind === 'id') {
      panel.append(
        make(
          'p',
          {},
          'For this application: it proves who signed in. Decoded header and claims (★ marks what tells it apart):',
        ),
      );
    } else if (decoded) {
      panel.append(
        make(
          'p',
          {},
          `For the API: requested with audience=${audience}. Send it as Authorization: Bearer. Decoded header and claims (★ marks what tells it apart):`,
        ),
      );
    }
    if (!decoded) {
      const segments = token.split('.').length;
      panel.append(
        make(
          'div',
          { class: 'opaque', 'data-testid': 'opaque-notice' },
          make('strong', {}, 'This access token is opaque. '),
          `It is ${segments === 5 ? 'an encrypted JWT (JWE), unreadable to the client' : 'not a JWT'} (${token.length} characters), so there is nothing to decode. ` +
            'The sign-in asked for no audience, so the provider issued a token for its /userinfo only, as Auth0 does. ' +
            "The API cannot verify it by itself: it asks the provider's /userinfo (cached per token). " +
            '/api/me answers the profile; /api/private-scoped answers 403, because the token carries no scopes. ' +
            'Sign in with audience to get a JWT access token for the API.',
        ),
      );
      return;
    }
    panel.append(
      make('h3', {}, 'Header'),
      make('pre', {}, JSON.stringify(decoded.header, null, 2)),
    );
    panel.append(
      make('h3', {}, 'Claims'),
      renderTable(rowsFor(kind, decoded.header, decoded.claims)),
    );
  }

  function resetPanels() {
    for (const [id, text] of [
      ['id-token', 'Sign in to see it.'],
      ['access-token', 'Sign in to see it.'],
    ]) {
      const panel = element(id);
      panel.replaceChildren(panel.querySelector('h2'), make('p', { class: 'muted' }, text));
    }
  }

  function setSignedIn(signedIn) {
    for (const id of [
      'call-with-access-token',
      'call-with-id-token',
      'call-me',
      'call-scoped',
      'call-step-up',
      'logout',
    ]) {
      element(id).disabled = !signedIn;
    }
  }

  /** Calls the API with one of the tokens and shows the status, WWW-Authenticate and body. */
  async function callApi(path, which) {
    const token = which === 'id' ? session?.idToken : session?.accessToken;
    const label = which === 'id' ? 'the ID token' : 'the access token';
    const result = element('api-result');
    result.textContent = `GET ${path} with ${label}…`;
    try {
      const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
      const text = await response.text();
      let body = text;
      try {
        body = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // Not JSON: shown as it came.
      }
      result.textContent = [
        `GET ${path} with ${label}`,
        `Status: ${response.status} ${response.statusText}`,
        `WWW-Authenticate: ${response.headers.get('WWW-Authenticate') ?? '(none)'}`,
        '',
        body,
      ].join('\n');
    } catch (error) {
      result.textContent = `GET ${path} with ${label} failed: ${error instanceof Error ? error.message : 'network error'}`;
    }
  }

  async function showSession(audience) {
    const idClaims = await client.getIdTokenClaims();
    const accessToken = await client.getTokenSilently({
      cacheMode: 'cache-only',
      authorizationParams: audience ? { audience, scope: config.scope } : { scope: config.scope },
    });
    if (!idClaims || !accessToken) {
      setStatus('The tokens are gone (they live in memory only): sign in again.');
      return;
    }
    // The SDK's name for the raw ID token.
    // eslint-disable-next-line no-underscore-dangle
    session = { idToken: idClaims.__raw, accessToken, audience };
    renderPanel('id', session.idToken);
    renderPanel('access', accessToken, audience);
    setSignedIn(true);
    setStatus(
      `Signed in as ${idClaims.email ?? idClaims.sub}, ${audience ? `with audience=${audience}` : 'without audience (opaque access token)'}.`,
    );
  }

  async function start() {
    config = await (await fetch('/sign-in-page/config.json')).json();
    element('config').textContent =
      `Tenant ${config.domain} · client id ${config.clientId ?? '(not set)'} · API identifier (audience) ${config.audience}`;
    if (!config.clientId) {
      setStatus(
        "Set AUTH_SPA_CLIENT_ID to your Auth0 Single Page Application's Client ID and restart the sample.",
        true,
      );
      return;
    }
    client = new auth0.Auth0Client({
      domain: config.domain,
      clientId: config.clientId,
      cacheLocation: 'memory',
      authorizationParams: { redirect_uri: `${window.location.origin}/`, scope: config.scope },
    });

    element('login').onclick = () =>
      client.loginWithRedirect({
        authorizationParams: { audience: config.audience, scope: config.scope },
        appState: { audience: config.audience },
      });
    element('login-no-audience').onclick = () =>
      client.loginWithRedirect({
        authorizationParams: { scope: config.scope },
        appState: { audience: null },
      });
    element('logout').onclick = () => {
      session = null;
      return client.logout({ logoutParams: { returnTo: `${window.location.origin}/` } });
    };
    element('call-with-access-token').onclick = () => callApi('/api/private', 'access');
    element('call-with-id-token').onclick = () => callApi('/api/private', 'id');
    element('call-me').onclick = () => callApi('/api/me', 'access');
    element('call-scoped').onclick = () => callApi('/api/private-scoped', 'access');
    element('call-step-up').onclick = () => callApi('/api/step-up', 'access');
    // Step-up (RFC 9470): sign in again, asking the provider for the acr the API's challenge named.
    element('login-step-up').onclick = () =>
      client.loginWithRedirect({
        authorizationParams: {
          audience: config.audience,
          scope: config.scope,
          acr_values: config.stepUp.acr,
          max_age: config.stepUp.maxAge,
        },
        appState: { audience: config.audience },
      });
    element('step-up-max-age').textContent = String(config.stepUp.maxAge);
    element('login').disabled = false;
    element('login-no-audience').disabled = false;
    element('login-step-up').disabled = false;

    const query = new URLSearchParams(window.location.search);
    if ((query.has('code') || query.has('error')) && query.has('state')) {
      try {
        const { appState } = await client.handleRedirectCallback();
        await showSession(appState?.audience ?? null);
      } catch (error) {
        setStatus(
          `Sign-in failed: ${error instanceof Error ? error.message : 'unknown error'}`,
          true,
        );
      } finally {
        // The code and state are single-use: keep them out of the address bar and history.
        window.history.replaceState({}, document.title, '/');
      }
      return;
    }
    resetPanels();
    setSignedIn(false);
  }

  start().catch((error) => {
    setStatus(
      `The page could not start: ${error instanceof Error ? error.message : 'unknown error'}`,
      true,
    );
  });
})();
