import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../../lib';
import { STEP_UP } from '../step-up';

/**
 * The page's own files are plain static files (HTML, CSS, a script without a build step), read from
 * this folder in the source tree (the sample's build is `tsc`, which emits only the controller);
 * the SDK is the browser build that `@auth0/auth0-spa-js` ships in its `dist/`.
 */
const PAGE_DIR = [__dirname, join(__dirname, '..', '..', '..', 'sample', 'sign-in-page')].find(
  (dir) => existsSync(join(dir, 'index.html')),
);
const SDK_FILE = require.resolve('@auth0/auth0-spa-js/dist/auth0-spa-js.production.js');

const ASSETS: Record<string, { file: string; type: string }> = {
  'page.js': { file: 'page.js', type: 'text/javascript; charset=utf-8' },
  'page.css': { file: 'page.css', type: 'text/css; charset=utf-8' },
  'auth0-spa-js.production.js': { file: SDK_FILE, type: 'text/javascript; charset=utf-8' },
};

/** What `reply.header()` (Fastify) and `res.header()` (Express) both offer. */
interface HeaderSetter {
  header(name: string, value: string): unknown;
}

/**
 * The tenant's "domain" as auth0-spa-js takes it: the issuer without its trailing slash (the first
 * one when AUTH_ISSUER_URL lists several, separated by commas).
 */
export function spaDomain(issuerUrl: string): string {
  return issuerUrl.split(',')[0].trim().replace(/\/+$/, '');
}

/**
 * The browser sign-in page at `/`: it signs in with auth0-spa-js (Authorization Code with PKCE)
 * and shows the ID token and the access token side by side, and what the API answers to each.
 * Plain controller routes, so that it is served alike on Express and Fastify without a static
 * file plugin. Same origin as the API: the page reads `WWW-Authenticate` without CORS.
 */
@ApiExcludeController()
@Public()
@Controller()
export class SignInPageController {
  private readonly files = new Map<string, string>();

  constructor(private readonly config: ConfigService) {
    if (!PAGE_DIR) throw new Error('The sign-in page (sample/sign-in-page/index.html) is missing.');
    for (const name of ['index.html', 'page.js', 'page.css']) {
      this.files.set(name, readFileSync(join(PAGE_DIR, name), 'utf8'));
    }
    this.files.set(SDK_FILE, readFileSync(SDK_FILE, 'utf8'));
  }

  @Get()
  index(@Res({ passthrough: true }) res: HeaderSetter): string {
    const domain = spaDomain(this.config.getOrThrow<string>('AUTH_ISSUER_URL'));
    res.header('Content-Type', 'text/html; charset=utf-8');
    res.header('Cache-Control', 'no-store');
    // Scripts and styles from this origin only; fetch to this API and to the identity provider.
    res.header(
      'Content-Security-Policy',
      [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        `connect-src 'self' ${new URL(domain).origin}`,
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
    );
    res.header('Referrer-Policy', 'no-referrer');
    return this.files.get('index.html')!;
  }

  /** What the page needs to sign in: configuration only, nothing secret (a SPA has no secret). */
  @Get('sign-in-page/config.json')
  pageConfig(): {
    domain: string;
    clientId: string | null;
    audience: string;
    scope: string;
    stepUp: { acr: string; maxAge: number };
  } {
    return {
      domain: spaDomain(this.config.getOrThrow<string>('AUTH_ISSUER_URL')),
      clientId: this.config.get<string>('AUTH_SPA_CLIENT_ID') || null,
      audience: this.config.getOrThrow<string>('AUTH_AUDIENCE').split(',')[0].trim(),
      scope: this.config.get<string>('AUTH_SPA_SCOPE') || 'openid profile email read:messages',
      stepUp: { ...STEP_UP },
    };
  }

  @Get('sign-in-page/:asset')
  asset(@Param('asset') name: string, @Res({ passthrough: true }) res: HeaderSetter): string {
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) throw new NotFoundException(`No ${name} on the sign-in page.`);
    res.header('Content-Type', asset.type);
    res.header('X-Content-Type-Options', 'nosniff');
    return this.files.get(asset.file)!;
  }
}
