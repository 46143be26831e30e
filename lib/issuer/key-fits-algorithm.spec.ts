import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { SupportedAlgorithm } from '../token/check-jwt-header';
import { isWeakKey, keyFitsAlgorithm, MIN_RSA_MODULUS_BITS } from './key-fits-algorithm';

const keys: Record<string, KeyObject> = {
  'rsa 2048': generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
  'rsa 1024': generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey,
  'rsa-pss 2048': generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey,
  'rsa-pss 1024': generateKeyPairSync('rsa-pss', { modulusLength: 1024 }).publicKey,
  'ec P-256': generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
  'ec P-384': generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey,
  'ec P-521': generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey,
  'ec secp256k1': generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey,
  ed25519: generateKeyPairSync('ed25519').publicKey,
};

describe('keyFitsAlgorithm', () => {
  it.each<[string, SupportedAlgorithm, boolean]>([
    ['rsa 2048', 'RS256', true],
    ['rsa 2048', 'RS512', true],
    ['rsa 2048', 'PS256', true],
    ['rsa 2048', 'ES256', false],
    ['rsa-pss 2048', 'PS384', true],
    ['rsa-pss 2048', 'RS256', false],
    ['rsa-pss 2048', 'ES256', false],
    ['ec P-256', 'ES256', true],
    ['ec P-256', 'ES384', false],
    ['ec P-256', 'RS256', false],
    ['ec P-256', 'PS256', false],
    ['ec P-384', 'ES384', true],
    ['ec P-384', 'ES256', false],
    ['ec P-521', 'ES512', true],
    ['ec P-521', 'ES384', false],
    ['ec secp256k1', 'ES256', false],
    ['ed25519', 'ES256', false],
    ['ed25519', 'RS256', false],
    ['ed25519', 'PS256', false],
  ])('%s with %s: %p', (key, alg, fits) => {
    expect(keyFitsAlgorithm(keys[key], alg)).toBe(fits);
  });
});

describe('isWeakKey', () => {
  it('sets the RSA minimum at 2048 bits', () => {
    expect(MIN_RSA_MODULUS_BITS).toBe(2048);
  });

  it.each([
    ['rsa 1024', true],
    ['rsa-pss 1024', true],
    ['rsa 2048', false],
    ['rsa-pss 2048', false],
    ['ec P-256', false],
    ['ed25519', false],
  ])('%s: %p', (key, weak) => {
    expect(isWeakKey(keys[key])).toBe(weak);
  });
});
