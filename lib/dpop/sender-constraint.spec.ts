import { resolveDpopOptions, type DpopOptions, type ResolvedDpopOptions } from './dpop-options';
import { SenderConstraint } from './sender-constraint';

/** The startup warnings of a SenderConstraint built with `dpop` and the API's identifiers. */
function startupWarnings(
  dpop: DpopOptions,
  audiences: string[] = ['https://api.example.com/v1', 'urn:api'],
  resource: string | undefined = 'https://Resource.example.com:443/',
): string[] {
  const warnings: string[] = [];
  const senders = new SenderConstraint(
    {
      dpop: resolveDpopOptions(dpop) as ResolvedDpopOptions,
      clockToleranceSeconds: 0,
      cache: { storeTimeoutMs: 100 },
      audiences,
      protectedResource: resource ? { enabled: true, resource } : { enabled: false },
    },
    undefined,
    { warn: (message) => warnings.push(message) },
  );
  expect(senders.currentNonce()).toBeUndefined();
  return warnings;
}

describe('SenderConstraint at startup', () => {
  it('warns once, naming the origins it accepts for htu, when DPoP is on without publicBaseUrl', () => {
    const warnings = startupWarnings({});
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /without dpop.publicBaseUrl.*\(https:\/\/resource.example.com, https:\/\/api.example.com\) and loopback hosts.*set dpop.publicBaseUrl/,
    );
    expect(startupWarnings({ mode: 'required' }, ['urn:api'], '')[0]).toMatch(
      /\(none: no audience/,
    );
  });

  it.each<[string, DpopOptions]>([
    ['publicBaseUrl is set', { publicBaseUrl: 'https://api.example.com' }],
    ['forwarded headers are trusted', { trustForwardedHeaders: true }],
    ['DPoP is disabled', { mode: 'disabled' }],
  ])('is silent when %s', (_name, dpop) => {
    expect(startupWarnings(dpop)).toEqual([]);
  });
});
