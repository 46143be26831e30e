import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium, installed by scripts/ensure-chromium.sh (npm test runs it). */
export const CHROMIUM = '/usr/bin/chromium';
/** Flags that keep a headless chromium quiet and offline. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless Debian chromium driven by playwright-core. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}
