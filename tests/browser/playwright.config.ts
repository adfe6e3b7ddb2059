// Real-browser checks of Caravan's web pages. Run them through
// deploy/scripts/check-browser.sh, which starts the platform and sets BASE_URL.
import * as path from 'node:path';
import { defineConfig } from '@playwright/test';

// Everything a run leaves (traces, failure screenshots, page screenshots) goes
// under the repository's target/, which git ignores.
const targetDir = path.resolve(__dirname, '../../target/browser');

// Playwright's own browser download does not work here: the tests drive Debian's
// Chromium (deploy/scripts/install-browser.sh installs it).
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: path.join(targetDir, 'results'),
  // One platform, one browser at a time: the machine has 2 cores.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: 'list',
  use: {
    baseURL: process.env.BASE_URL,
    browserName: 'chromium',
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        // Without these Chromium's own background connections get refused here.
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    {
      name: 'phone',
      use: {
        viewport: { width: 360, height: 740 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
      },
    },
    {
      name: 'desktop',
      use: {
        viewport: { width: 1280, height: 800 },
        deviceScaleFactor: 1,
        isMobile: false,
        hasTouch: false,
      },
    },
  ],
});
