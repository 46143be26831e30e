// Each default is written once, in its component (issue 21, part 2): the doc comment's `@default`
// on the public option and the README's options table are checked against the component's own
// constant and against what the resolver fills in, so that none of the three can drift.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_VERIFIED_TOKEN_CACHE } from '../../lib/cache/verified-token-cache-options';
import { ISSUER_DEFAULTS } from '../../lib/issuer/issuer-options';
import { OPAQUE_DEFAULTS } from '../../lib/opaque/opaque-options';
import { resolveAuthOptions } from '../../lib/options/resolve-auth-options';

const root = join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

/** The `@default` of `member` in the doc comment just above it, inside `interface name { ... }`. */
function jsdocDefault(file: string, name: string, member: string): string {
  const text = read(file);
  const start = text.indexOf(`export interface ${name} `);
  if (start === -1) throw new Error(`${file} declares no interface ${name}`);
  const body = text.slice(start, text.indexOf('\n}', start));
  const at = body.search(new RegExp(`\\n {2}${member}\\??:`));
  if (at === -1) throw new Error(`interface ${name} has no member ${member}`);
  const comment = body.slice(body.lastIndexOf('/**', at), at);
  const found = /@default (.+)/.exec(comment);
  if (!found) throw new Error(`${name}.${member} has no @default`);
  return found[1].trim();
}

/** The Default cell of `option`'s row in the README's options table. */
function readmeDefault(option: string): string {
  const row = read('README.md')
    .split('\n')
    .find((line) => line.startsWith(`| \`${option}\` |`));
  if (!row) throw new Error(`the README's options table has no row for ${option}`);
  return row.split(' | ')[1];
}

const resolved = resolveAuthOptions({ issuerUrl: 'https://tenant.example.com/', audience: 'api' });
const OPTIONS = 'lib/options/auth-options.interface.ts';
const OPAQUE = 'lib/opaque/opaque-options.ts';

describe('every default is written once', () => {
  it.each([
    ['clockTolerance', resolved.clockToleranceSeconds, undefined],
    ['allowQueryToken', resolved.allowQueryToken, undefined],
    ['strict', resolved.strict, undefined],
    ['realm', resolved.realm, undefined],
    ['maxTokenLength', resolved.maxTokenLength, undefined],
    ['httpTimeoutMs', resolved.httpTimeoutMs, ISSUER_DEFAULTS.httpTimeoutMs],
    ['jwksCooldownSeconds', resolved.jwksCooldownMs / 1000, ISSUER_DEFAULTS.jwksCooldownSeconds],
  ])('%s: the resolver, the component, @default and the README agree', (option, value, own) => {
    // Options the resolver owns have no component constant: the resolver's value is the one.
    expect(value).toBe(own ?? value);
    const literal = typeof value === 'string' ? `'${value}'` : String(value);
    expect(jsdocDefault(OPTIONS, 'AuthModuleOptions', option)).toBe(literal);
    expect(readmeDefault(option)).toBe(`\`${literal}\``);
  });

  it.each(Object.entries(OPAQUE_DEFAULTS.cache))('cache.%s', (member, value) => {
    const inResolved: Record<string, number> = {
      ttlSeconds: resolved.cache.ttlMs / 1000,
      failureTtlSeconds: resolved.cache.failureTtlMs / 1000,
      maxEntries: resolved.cache.maxEntries,
      maxBytes: resolved.cache.maxBytes,
      storeTimeoutMs: resolved.cache.storeTimeoutMs,
    };
    expect(inResolved[member]).toBe(value);
    const shown = member === 'maxBytes' ? `${value / 2 ** 20} MiB` : String(value);
    expect(jsdocDefault(OPAQUE, 'CacheOptions', member)).toBe(shown);
    expect(readmeDefault('cache')).toContain(
      member === 'maxBytes' ? `\`${member}\`: ${shown}` : `\`${member}: ${shown}\``,
    );
  });

  it.each(Object.entries(OPAQUE_DEFAULTS.upstreamBudget))(
    'upstream budgets: %s',
    (member, value) => {
      expect(resolved.upstream.opaqueTokens[member as 'maxConcurrent']).toBe(value);
      expect(resolved.upstream.profiles[member as 'maxConcurrent']).toBe(value);
      expect(jsdocDefault(OPAQUE, 'UpstreamBudget', member)).toBe(String(value));
      expect(jsdocDefault(OPAQUE, 'UpstreamOptions', 'opaqueTokens')).toContain(
        `${member}: ${value}`,
      );
      expect(readmeDefault('upstream')).toContain(`${member}: ${value}`);
    },
  );

  it('verifiedTokenCache', () => {
    const { maxEntries, maxBytes } = DEFAULT_VERIFIED_TOKEN_CACHE;
    expect(resolved.verifiedTokenCache).toEqual({ maxEntries, maxBytes });
    const shown = `{ maxEntries: ${maxEntries}, maxBytes: ${maxBytes / 2 ** 20} MiB }`;
    expect(jsdocDefault(OPTIONS, 'AuthModuleOptions', 'verifiedTokenCache')).toBe(shown);
    expect(readmeDefault('verifiedTokenCache')).toContain(`maxEntries: ${maxEntries}`);
    expect(readmeDefault('verifiedTokenCache')).toContain(`${maxBytes / 2 ** 20} MiB`);
  });

  it("the JWKS refetch burst the README's jwksCooldownSeconds row names", () => {
    expect(read('README.md')).toContain(
      `After ${ISSUER_DEFAULTS.jwksRefetchBurst} quick refetches for unknown \`kid\`s`,
    );
  });
});
