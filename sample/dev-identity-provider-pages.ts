import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * DEVELOPMENT ONLY: the embedded identity provider's own pages, as a tenant's Universal Login would
 * show them: a login form that accepts any email address and any password, a consent page and a
 * sign-out page. On each, the affirmative button is the first one.
 */

/** The largest form body the login and consent pages read. */
const MAX_FORM_BYTES = 8 * 1024;
/** RFC 5321's limit on an address (a longer "email" is refused, not stored in a `sub`). */
const MAX_EMAIL_LENGTH = 254;
const SUB_PREFIX = 'auth0|';

/**
 * The authentication context class of a multi-factor sign-in (OpenID PAPE, as Auth0 names it): the
 * login page offers it when an authorization request asks for it with `acr_values`.
 */
export const MULTI_FACTOR_ACR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
/** The development one-time code: any six digits. */
const ONE_TIME_CODE = /^\d{6}$/;

/** The `sub` of the development account signed in with `email`: stateless, so nothing grows. */
export function subjectForEmail(email: string): string {
  return `${SUB_PREFIX}${Buffer.from(email.toLowerCase(), 'utf8').toString('base64url')}`;
}

/** The profile of a development account (`/userinfo` and the ID token), or undefined. */
export function profileOfSubject(
  sub: string,
): { sub: string; email: string; name: string } | undefined {
  if (!sub.startsWith(SUB_PREFIX)) return undefined;
  const email = Buffer.from(sub.slice(SUB_PREFIX.length), 'base64url').toString('utf8');
  if (!email.includes('@') || email.length > MAX_EMAIL_LENGTH) return undefined;
  return { sub, email, name: email.split('@')[0] };
}

const escapeHtml = (value: unknown): string =>
  String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:40px 16px}
main{max-width:360px;margin:0 auto;background:#fff;border-radius:8px;padding:24px 28px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.3em;margin:0 0 8px}.dev{background:#fff3cd;border:1px solid #e0c36a;border-radius:4px;padding:6px 8px;font-size:.85em}
label{display:block;margin:12px 0 4px;font-size:.9em}input{width:100%;box-sizing:border-box;padding:8px;font-size:1em}
button{display:block;width:100%;margin-top:12px;padding:10px;font-size:1em;border-radius:4px;border:1px solid #635dff;cursor:pointer}
button.primary{background:#635dff;color:#fff}button.secondary{background:#fff;color:#635dff}
code{background:#eef;padding:1px 4px;border-radius:3px}ul{padding-left:20px}p.error{color:#b00020}`;

/** A page of the provider: no script, no remote resource (a Content-Security-Policy says so). */
function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
<p class="dev">DEVELOPMENT ONLY: the sample's embedded identity provider (oidc-provider), set up like an Auth0 tenant.</p>
${body}</main></body></html>`;
}

function sendPage(ctx: KoaContextWithOIDC, status: number, title: string, body: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set(
    'Content-Security-Policy',
    // No form-action: Chrome applies it to the redirects that follow a form, to the application.
    "default-src 'none'; style-src 'unsafe-inline'",
  );
  ctx.set('Cache-Control', 'no-store');
  ctx.body = page(title, body);
}

/** Reads an urlencoded form body, at most MAX_FORM_BYTES (a larger one is refused). */
async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Whether the authorization request asks for a multi-factor sign-in (`acr_values`). */
function asksMultiFactor(details: InteractionDetails): boolean {
  return (details.params.acr_values ?? '').split(' ').includes(MULTI_FACTOR_ACR);
}

function loginForm(uid: string, details: InteractionDetails, error?: string): string {
  const audience = details.params.audience ?? details.params.resource;
  const multiFactor = asksMultiFactor(details);
  return `<p>Application <code>${escapeHtml(details.params.client_id)}</code> asks you to sign in${
    audience
      ? ` for the API <code>${escapeHtml(audience)}</code>.`
      : ', with no <code>audience</code>: its access token will be opaque.'
  }</p>
${
  multiFactor
    ? `<p data-testid="login-multi-factor">It asks for a multi-factor sign-in (<code>acr_values=${escapeHtml(MULTI_FACTOR_ACR)}</code>): enter a one-time code too. Any 6 digits pass here.</p>`
    : ''
}
${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<label for="email">Email (any address)</label>
<input id="email" name="email" type="email" required autofocus maxlength="${MAX_EMAIL_LENGTH}" data-testid="login-email">
<label for="password">Password (any password)</label>
<input id="password" name="password" type="password" required data-testid="login-password">
${
  multiFactor
    ? `<label for="otp">One-time code (any 6 digits)</label>
<input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" maxlength="6" data-testid="login-otp">
<button class="primary" type="submit" name="factor" value="otp" data-testid="login-submit-mfa">Sign in with multi-factor</button>
<button class="secondary" type="submit" data-testid="login-submit">Sign in with password only</button>`
    : '<button class="primary" type="submit" data-testid="login-submit">Sign in</button>'
}
<button class="secondary" type="submit" formaction="/interaction/${escapeHtml(uid)}/abort" formnovalidate>Cancel</button>
</form>`;
}

function consentForm(uid: string, details: InteractionDetails): string {
  const { missingOIDCScope = [], missingResourceScopes = {} } = details.prompt.details as {
    missingOIDCScope?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  const items = [
    ...missingOIDCScope.map(
      (scope) => `<li><code>${escapeHtml(scope)}</code>${OIDC_SCOPE_NOTES[scope] ?? ''}</li>`,
    ),
    ...Object.entries(missingResourceScopes).flatMap(([api, scopes]) =>
      scopes.map(
        (scope) =>
          `<li><code>${escapeHtml(scope)}</code> at the API <code>${escapeHtml(api)}</code></li>`,
      ),
    ),
  ];
  return `<p>Application <code>${escapeHtml(details.params.client_id)}</code> asks for:</p>
<ul>${items.join('')}</ul>
<form method="post" action="/interaction/${escapeHtml(uid)}/confirm">
<button class="primary" type="submit" data-testid="consent-allow">Allow</button>
<button class="secondary" type="submit" formaction="/interaction/${escapeHtml(uid)}/abort">Deny</button>
</form>`;
}

const OIDC_SCOPE_NOTES: Record<string, string> = {
  openid: ' (sign you in: an ID token for the application)',
  profile: ' (your name)',
  email: ' (your email address)',
};

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>> & {
  params: Record<string, string | undefined>;
};

const INTERACTION_PATH = /^\/interaction\/([\w-]{1,64})(?:\/(login|confirm|abort))?$/;

/**
 * Koa middleware for the interaction pages (`/interaction/:uid`, oidc-provider's default URL):
 * GET shows the login or consent form, POST `login` signs in any email address, `confirm` grants
 * what was asked, `abort` answers the application `access_denied`.
 */
export function interactionPages(provider: Provider) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    const match = INTERACTION_PATH.exec(ctx.path);
    if (!match) return next();
    const [, uid, action] = match;
    let details: InteractionDetails;
    try {
      details = (await provider.interactionDetails(ctx.req, ctx.res)) as InteractionDetails;
    } catch {
      return sendPage(
        ctx,
        400,
        'Sign-in expired',
        '<p>This sign-in has expired or was started in another browser. Go back to the application and sign in again.</p>',
      );
    }
    if (details.uid !== uid) return sendPage(ctx, 400, 'Sign-in expired', '<p>Start again.</p>');

    if (ctx.method === 'GET' && action === undefined) {
      return details.prompt.name === 'login'
        ? sendPage(ctx, 200, 'Sign in', loginForm(uid, details))
        : sendPage(ctx, 200, 'Authorize the application', consentForm(uid, details));
    }
    if (ctx.method !== 'POST' || action === undefined) {
      ctx.status = 405;
      return undefined;
    }
    const form = await readForm(ctx.req);
    if (!form) return sendPage(ctx, 413, 'Sign in', '<p>The form is too large.</p>');

    let result: Parameters<Provider['interactionResult']>[2];
    if (action === 'abort') {
      result = { error: 'access_denied', error_description: 'The user cancelled the sign-in.' };
    } else if (action === 'login') {
      const email = (form.get('email') ?? '').trim();
      if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > MAX_EMAIL_LENGTH) {
        return sendPage(
          ctx,
          400,
          'Sign in',
          loginForm(uid, details, 'Enter an email address, such as you@example.com.'),
        );
      }
      // The multi-factor button (offered for acr_values only) needs the one-time code.
      const multiFactor = asksMultiFactor(details) && form.get('factor') === 'otp';
      if (multiFactor && !ONE_TIME_CODE.test((form.get('otp') ?? '').trim())) {
        return sendPage(
          ctx,
          400,
          'Sign in',
          loginForm(uid, details, 'Enter the one-time code: any 6 digits, such as 123456.'),
        );
      }
      result = {
        login: multiFactor
          ? { accountId: subjectForEmail(email), acr: MULTI_FACTOR_ACR, amr: ['pwd', 'otp'] }
          : { accountId: subjectForEmail(email), amr: ['pwd'] },
      };
    } else {
      result = { consent: { grantId: await saveGrant(provider, details) } };
    }
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: false,
    });
    ctx.status = 303;
    ctx.redirect(redirectTo);
    return undefined;
  };
}

/** Grants what the consent prompt found missing (OpenID scopes and the API's scopes). */
async function saveGrant(provider: Provider, details: InteractionDetails): Promise<string> {
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  const grant =
    (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
    new provider.Grant({
      accountId: details.session!.accountId,
      clientId: details.params.client_id,
    });
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

/** The sign-out confirmation (rpInitiatedLogout.logoutSource): "Yes, sign me out" first. */
export function logoutSource(ctx: KoaContextWithOIDC, form: string): void {
  sendPage(
    ctx,
    200,
    'Sign out',
    `<p>Sign out of the development tenant at <code>${escapeHtml(ctx.host)}</code>?</p>
${form}
<button class="primary" type="submit" form="op.logoutForm" value="yes" name="logout" data-testid="logout-confirm">Yes, sign me out</button>
<button class="secondary" type="submit" form="op.logoutForm">No, stay signed in</button>`,
  );
}

/** The provider's error page (a request it cannot send back to the application). */
export function renderError(
  ctx: KoaContextWithOIDC,
  out: { error: string; error_description?: string },
): void {
  sendPage(
    ctx,
    ctx.status >= 400 ? ctx.status : 400,
    'Sign-in error',
    `<p><code>${escapeHtml(out.error)}</code>: ${escapeHtml(out.error_description ?? '')}</p>`,
  );
}

/** The page shown after a sign-out that names no return URL. */
export function postLogoutSuccessSource(ctx: KoaContextWithOIDC): void {
  sendPage(ctx, 200, 'Signed out', '<p>You are signed out of the development tenant.</p>');
}

/**
 * Auth0's `GET /v2/logout?client_id=...&returnTo=...` (what auth0-spa-js's `logout()` opens),
 * answered by the OpenID end-session endpoint (`post_logout_redirect_uri`), which checks
 * `returnTo` against the client's registered sign-out URLs as Auth0 checks its Allowed Logout URLs.
 */
export function auth0LogoutRoute(endSessionPath: string) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    if (ctx.path !== '/v2/logout' || ctx.method !== 'GET') return next();
    const query = new URLSearchParams(ctx.querystring);
    const target = new URLSearchParams();
    const clientId = query.get('client_id');
    const returnTo = query.get('returnTo');
    if (clientId) target.set('client_id', clientId);
    if (clientId && returnTo) target.set('post_logout_redirect_uri', returnTo);
    ctx.redirect(`${endSessionPath}?${target.toString()}`);
    return undefined;
  };
}
