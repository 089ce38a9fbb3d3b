import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, which .ci/run installs; the browser test and scripts/report-screenshot.mjs both launch it. */
export const CHROMIUM = '/usr/bin/chromium';

/** Headless, and quiet: no first-run pages, background fetches or updates that could reach the network. */
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const chromiumMissing = (): string | undefined =>
  existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, timeout: 30_000 });
}
