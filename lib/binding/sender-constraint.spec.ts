import { resolveDpopOptions, type DpopOptions } from './dpop-options';
import { resolveMtlsOptions } from './mtls-options';
import { SenderConstraint } from './sender-constraint';

/** A SenderConstraint built with `dpop` and the API's identifiers, and the warnings it logs. */
function senderConstraint(
  dpop: DpopOptions,
  audiences: string[] = ['https://api.example.com/v1', 'urn:api'],
  resource: string | undefined = 'https://Resource.example.com:443/',
): { senders: SenderConstraint; warnings: string[] } {
  const warnings: string[] = [];
  const senders = new SenderConstraint(
    {
      dpop: resolveDpopOptions(dpop),
      clockToleranceSeconds: 0,
      cache: { storeTimeoutMs: 100 },
      audiences,
      protectedResource: resource ? { enabled: true, resource } : { enabled: false },
    },
    undefined,
    { warn: (message) => warnings.push(message) },
  );
  expect(senders.currentNonce()).toBeUndefined();
  return { senders, warnings };
}

/** The warnings logged at startup. */
function startupWarnings(...args: Parameters<typeof senderConstraint>): string[] {
  return senderConstraint(...args).warnings;
}

/** A DPoP request whose URL comes from the client's Host header (its proof is not looked at). */
const fromClientHost = {
  scheme: 'DPoP' as const,
  dpopProofs: ['not-a-proof'],
  method: 'GET',
  url: () => 'http://127.0.0.1:3000/api',
  urlFromClientHost: true,
};

describe('SenderConstraint at startup', () => {
  it('warns once, on the first DPoP request, naming the origins it accepts for htu, when DPoP is allowed without publicBaseUrl', async () => {
    const { senders, warnings } = senderConstraint({});
    expect(warnings).toEqual([]);
    for (let i = 0; i < 3; i++)
      await expect(senders.checkProof('token', fromClientHost)).rejects.toThrow(
        'The DPoP header must hold exactly one JWT',
      );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /without dpop.publicBaseUrl.*\(https:\/\/resource.example.com, https:\/\/api.example.com\) and loopback hosts.*set dpop.publicBaseUrl/,
    );
  });

  it('warns at startup where DPoP is required without publicBaseUrl', () => {
    const warnings = startupWarnings({ mode: 'required' }, ['urn:api'], '');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/\(none: no audience/);
  });

  it.each<[string, DpopOptions]>([
    ['publicBaseUrl is set', { publicBaseUrl: 'https://api.example.com' }],
    ['forwarded headers are trusted', { trustForwardedHeaders: true }],
    ['DPoP is disabled', { mode: 'disabled' }],
  ])('is silent when %s', (_name, dpop) => {
    expect(startupWarnings(dpop)).toEqual([]);
  });
});

describe('SenderConstraint.checkUnprovenBinding (a token presented without a DPoP proof)', () => {
  const bearer = { scheme: 'Bearer' as const, dpopProofs: [], method: 'GET', url: () => undefined };
  const userWith = (claims: Record<string, unknown>, tokenType: 'jwt' | 'opaque' = 'jwt') =>
    ({
      sub: 'auth0|1',
      scopes: [],
      tokenType,
      tokenHash: '0123456789ab',
      claims: { iss: 'https://issuer/', sub: 'auth0|1', ...claims },
    }) as never;
  const reasonOf = (run: () => void): string | undefined => {
    try {
      run();
      return undefined;
    } catch (error) {
      return (error as { reason?: string }).reason;
    }
  };

  it.each<[string, Record<string, unknown>, 'jwt' | 'opaque', string | undefined]>([
    ['an unbound token', {}, 'jwt', undefined],
    [
      'a token bound to a DPoP key',
      { cnf: { jkt: 'thumbprint' } },
      'jwt',
      'sender_constrained_token',
    ],
    ['a cnf that is not an object', { cnf: 'x' }, 'jwt', 'unsupported_cnf'],
    ['only cnf members it cannot check', { cnf: { kid: 'k', jwk: {} } }, 'jwt', 'unsupported_cnf'],
    [
      // RFC 7800 §3.1: members not understood are ignored (Keycloak's kc-jkt-type beside jkt).
      'a DPoP key binding with an extra cnf member',
      { cnf: { jkt: 'thumbprint', 'kc-jkt-type': 'DPoP' } },
      'jwt',
      'sender_constrained_token',
    ],
    ['an opaque DPoP token without cnf', { token_type: 'DPoP' }, 'opaque', 'unsupported_cnf'],
    [
      'a token bound to a certificate the request did not present',
      { cnf: { 'x5t#S256': 'A'.repeat(43) } },
      'jwt',
      'certificate_missing',
    ],
  ])('%s: %s', (_name, claims, tokenType, reason) => {
    const { senders } = senderConstraint({});
    expect(reasonOf(() => senders.checkUnprovenBinding(userWith(claims, tokenType), bearer))).toBe(
      reason,
    );
    expect(
      reasonOf(() => senders.checkUnprovenBinding(userWith(claims, tokenType), undefined)),
    ).toBe(reason);
  });

  it('never ignores a certificate binding it knows but has disabled (mtls.mode disabled)', () => {
    const senders = new SenderConstraint({
      mtls: resolveMtlsOptions({ mode: 'disabled' }),
      clockToleranceSeconds: 0,
      cache: { storeTimeoutMs: 100 },
    });
    const x5t = 'A'.repeat(43);
    for (const cnf of [
      { 'x5t#S256': x5t },
      { 'x5t#S256': x5t, 'kc-jkt-type': 'x' },
      { jkt: 't', 'x5t#S256': x5t },
    ]) {
      expect(reasonOf(() => senders.checkUnprovenBinding(userWith({ cnf }), bearer))).toBe(
        'unsupported_cnf',
      );
    }
  });

  it('refuses a bearer presentation where DPoP is required, and a DPoP one that has no proof', () => {
    const { senders } = senderConstraint({
      mode: 'required',
      publicBaseUrl: 'https://api.example.com',
    });
    expect(reasonOf(() => senders.checkUnprovenBinding(userWith({}), bearer))).toBe(
      'dpop_required',
    );
    const allowed = senderConstraint({}).senders;
    expect(reasonOf(() => allowed.checkUnprovenBinding(userWith({}), fromClientHost))).toBe(
      'dpop_proof_missing',
    );
  });
});
