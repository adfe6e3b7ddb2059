// The browser checks' `test`: Playwright's, with a `page` that may not talk to anything
// but the platform, and helpers for accessibility, page weight and email.
//
//   import { test, expect } from './fixtures';
//   test('…', async ({ page, checkPage, expectWithinBudget, mail }) => { … });
//
// - page: every request (WebSockets too) for anything outside BASE_URL's origin
//   (another host, port or scheme; data: and blob: URLs are fine) is aborted and
//   recorded, and the test fails at its end listing them: a page must work with the
//   platform alone. A same-origin redirect to elsewhere is followed by the browser
//   (Playwright routes only a redirect chain's first request) but recorded all the same.
// - checkPage(page, name): a full-page screenshot (target/browser/screenshots/<project>/
//   <name>.png) and axe-core; fails on any violation of impact serious or critical.
//   Works with JavaScript off too (axe then checks a copy of the page, see `axe`).
// - expectWithinBudget(page, kind, action): runs `action`, which must load a new
//   document, and fails when the bytes transferred for that document and its CSS and
//   JS exceed budget.json's limit for `kind`.
// - newPage(): a page in a new browser context (another person, or the same person in
//   another browser: no cookies shared) with the project's viewport, touch, locale and
//   JavaScript settings, guarded like `page`.
// - mail(to): the messages the SMTP sink (MailDev at MAIL_URL, its REST API under
//   /api/email) received for `to` since the test started, oldest first, waiting up to
//   10 s for the first (or, with `containing`, for the first that carries a phrase).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';

export { expect };

const screenshotDir = path.resolve(__dirname, '../../target/browser/screenshots');
const budgetFile = path.join(__dirname, 'budget.json');
const mailUrl = (process.env.MAIL_URL || 'http://127.0.0.1:1080').replace(/\/+$/, '');

// ---------------------------------------------------------------- origin guard

/** Whether loading `url` would send anything anywhere but `origin`. */
function leavesOrigin(url: string, origin: string): boolean {
  const parsed = new URL(url);
  // data: and about: load nothing; blob: URLs carry the origin that made them.
  if (parsed.protocol === 'data:' || parsed.protocol === 'about:') return false;
  return parsed.origin !== origin;
}

/**
 * Blocks and records every request from `page`'s context that leaves `origin`.
 * Routing blocks what the page asks for; the request listener also records what
 * routing never sees (a same-origin response redirecting elsewhere: Playwright
 * routes only a redirect chain's first request).
 */
async function guardOrigin(page: Page, origin: string): Promise<string[]> {
  const context = page.context();
  const leaks: string[] = [];
  context.on('request', (request) => {
    if (!leavesOrigin(request.url(), origin)) return;
    const from = request.redirectedFrom();
    leaks.push(
      `${request.method()} ${request.url()} (${request.resourceType()}` +
        (from ? `, redirected from ${from.url()}` : '') +
        ')',
    );
  });
  await context.route('**/*', (route, request) =>
    leavesOrigin(request.url(), origin) ? route.abort('blockedbyclient') : route.fallback(),
  );
  await context.routeWebSocket(
    () => true,
    (ws) => {
      if (leavesOrigin(ws.url().replace(/^ws/, 'http'), origin)) {
        leaks.push(`WebSocket ${ws.url()}`);
        void ws.close({ code: 1008, reason: 'the browser checks allow the platform origin only' });
      } else {
        ws.connectToServer();
      }
    },
  );
  return leaks;
}

// ---------------------------------------------------------------- accessibility

type AxeResults = Awaited<ReturnType<AxeBuilder['analyze']>>;
type AxeViolation = AxeResults['violations'][number];

const blockingImpacts = new Set(['serious', 'critical']);

function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map((violation) => {
      const nodes = violation.nodes.slice(0, 5).map((node) => {
        const summary = (node.failureSummary ?? '').replace(/\s*\n\s*/g, ' ').trim();
        return `      at ${node.target.join(' ')}: ${summary}`;
      });
      if (violation.nodes.length > 5) nodes.push(`      … and ${violation.nodes.length - 5} more`);
      return [
        `  [${violation.impact}] ${violation.id}: ${violation.help}`,
        `      ${violation.helpUrl}`,
        ...nodes,
      ].join('\n');
    })
    .join('\n');
}

function fileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'page';
}

/**
 * axe-core's findings on `page`. axe runs as a script in the page; where JavaScript is
 * off (a test of the pages without it) it runs instead in a page of its own that shows
 * the same document: the HTML as `page` has it, the same cookies and viewport, its
 * stylesheets and images from the platform, and no script but axe.
 */
async function axe(page: Page): Promise<AxeResults> {
  try {
    return await new AxeBuilder({ page }).analyze();
  } catch (error) {
    if (!String(error).includes('Frame cannot run scripts')) throw error;
  }
  const browser = page.context().browser();
  if (!browser) throw new Error('checkPage: a page without JavaScript needs a browser to run axe-core in');
  const url = page.url().replace(/#.*$/, '');
  const origin = new URL(url).origin;
  const html = await page.content();
  const context = await browser.newContext({
    viewport: page.viewportSize(),
    storageState: await page.context().storageState(),
    javaScriptEnabled: true,
  });
  try {
    const copy = await context.newPage();
    await copy.route('**/*', (route, request) => {
      if (request.isNavigationRequest() && request.url() === url) {
        return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
      }
      if (request.resourceType() === 'script' || leavesOrigin(request.url(), origin)) {
        return route.abort('blockedbyclient');
      }
      return route.fallback();
    });
    await copy.goto(url);
    return await new AxeBuilder({ page: copy }).analyze();
  } finally {
    await context.close();
  }
}

async function checkPage(page: Page, name: string, testInfo: TestInfo): Promise<void> {
  const screenshot = path.join(screenshotDir, testInfo.project.name, `${fileName(name)}.png`);
  await page.screenshot({ path: screenshot, fullPage: true });
  await testInfo.attach(`${name}.png`, { path: screenshot, contentType: 'image/png' });

  const results = await axe(page);
  await testInfo.attach(`${name}.axe.json`, {
    body: JSON.stringify(results.violations, null, 2),
    contentType: 'application/json',
  });
  const blocking = results.violations.filter((v) => blockingImpacts.has(v.impact ?? ''));
  const minor = results.violations.length - blocking.length;
  if (minor > 0) {
    console.log(
      `axe: ${name} (${testInfo.project.name}): ${minor} moderate or minor finding(s): ` +
        results.violations
          .filter((v) => !blockingImpacts.has(v.impact ?? ''))
          .map((v) => v.id)
          .join(', '),
    );
  }
  expect(
    blocking.length,
    `axe-core found ${blocking.length} serious or critical accessibility violation(s) on ` +
      `${name} (${page.url()}, ${testInfo.project.name}):\n${describeViolations(blocking)}\n`,
  ).toBe(0);
}

// ---------------------------------------------------------------- page weight

/** CDP resource types that count towards a page's weight, by the name reported. */
const countedTypes = { Document: 'document', Stylesheet: 'stylesheet', Script: 'script' } as const;
type Counted = (typeof countedTypes)[keyof typeof countedTypes];

export interface PageWeight {
  kind: string;
  url: string;
  /** Bytes transferred (headers and encoded body) for the document, CSS and JS. */
  total: number;
  limit: number;
  byType: Record<Counted, number>;
  resources: { url: string; type: Counted; bytes: number }[];
}

function readBudgets(): Record<string, number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(budgetFile, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the page-weight budgets in ${budgetFile}: ${String(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${budgetFile} must be an object of page kind -> limit in bytes`);
  }
  const budgets: Record<string, number> = {};
  for (const [kind, limit] of Object.entries(parsed)) {
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0) {
      throw new Error(`${budgetFile}: the limit for "${kind}" must be a positive whole number of bytes`);
    }
    budgets[kind] = limit;
  }
  return budgets;
}

const bytes = (n: number) => `${n.toLocaleString('en-US')} B`;

/**
 * Runs `action` and measures what the new document it loads costs to transfer: the
 * document with its stylesheets and scripts, from the HTTP cache's point of view of a
 * first visit (the cache is off while measuring). Waits for the new document's load
 * event, for the network to go quiet (scripts that load more scripts) and for every
 * counted request to finish.
 */
async function measure(
  page: Page,
  action: () => Promise<unknown>,
): Promise<Omit<PageWeight, 'kind' | 'limit'>> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const requests = new Map<string, { url: string; type: Counted; bytes: number; done: boolean }>();
    let unfinished = 0;
    let settled: (() => void) | undefined;
    const finish = (requestId: string, transferred: number | undefined) => {
      const request = requests.get(requestId);
      if (!request || request.done) return;
      request.done = true;
      if (transferred === undefined) requests.delete(requestId); // failed or aborted: nothing to count
      else request.bytes += transferred;
      unfinished -= 1;
      if (unfinished === 0) settled?.();
    };
    cdp.on('Network.requestWillBeSent', (event) => {
      const known = requests.get(event.requestId);
      if (known && event.redirectResponse) {
        // A redirect keeps its request id: count the redirect response, follow the new URL.
        known.bytes += event.redirectResponse.encodedDataLength;
        known.url = event.request.url;
        return;
      }
      const type = event.type && event.type in countedTypes
        ? countedTypes[event.type as keyof typeof countedTypes]
        : undefined;
      if (!type || known) return;
      requests.set(event.requestId, { url: event.request.url, type, bytes: 0, done: false });
      unfinished += 1;
    });
    cdp.on('Network.loadingFinished', (event) => finish(event.requestId, event.encodedDataLength));
    cdp.on('Network.loadingFailed', (event) => finish(event.requestId, undefined));
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });

    const loaded = page.waitForEvent('load', { timeout: 30_000 }).catch(() => {
      throw new Error(
        'page weight: the action did not load a new page within 30 s ' +
          '(it must navigate, e.g. () => page.goto(url) or () => link.click())',
      );
    });
    await action();
    await loaded;
    await page.waitForLoadState('networkidle');
    if (unfinished > 0) {
      // The network is quiet: what is still unfinished is stuck (a stream, a hung server).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (settled = resolve)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const stuck = [...requests.values()].filter((r) => !r.done).map((r) => `  ${r.type} ${r.url}`);
            reject(new Error(`page weight: these requests did not finish within 10 s:\n${stuck.join('\n')}`));
          }, 10_000);
        }),
      ]).finally(() => clearTimeout(timer));
    }

    const resources = [...requests.values()].map(({ url, type, bytes }) => ({ url, type, bytes }));
    const byType: Record<Counted, number> = { document: 0, stylesheet: 0, script: 0 };
    for (const resource of resources) byType[resource.type] += resource.bytes;
    const total = byType.document + byType.stylesheet + byType.script;
    return { url: page.url(), total, byType, resources };
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

async function expectWithinBudget(
  page: Page,
  kind: string,
  action: () => Promise<unknown>,
  testInfo: TestInfo,
): Promise<PageWeight> {
  const budgets = readBudgets();
  const limit = budgets[kind];
  if (limit === undefined) {
    throw new Error(
      `no page-weight budget for "${kind}" in ${budgetFile} (it has: ${Object.keys(budgets).join(', ')})`,
    );
  }
  const weight: PageWeight = { kind, limit, ...(await measure(page, action)) };
  const line =
    `page weight: ${kind} (${testInfo.project.name}) ${weight.url}: ${bytes(weight.total)} of ` +
    `${bytes(limit)} — document ${bytes(weight.byType.document)}, ` +
    `CSS ${bytes(weight.byType.stylesheet)}, JS ${bytes(weight.byType.script)}`;
  console.log(line);
  await testInfo.attach(`${kind}.weight.json`, {
    body: JSON.stringify(weight, null, 2),
    contentType: 'application/json',
  });
  const largest = [...weight.resources]
    .sort((a, b) => b.bytes - a.bytes)
    .map((r) => `  ${bytes(r.bytes).padStart(10)}  ${r.type.padEnd(10)}  ${r.url}`)
    .join('\n');
  expect(
    weight.total,
    `${line}\nover the budget by ${bytes(weight.total - limit)}; what was transferred:\n${largest}\n`,
  ).toBeLessThanOrEqual(limit);
  return weight;
}

// ---------------------------------------------------------------- email

interface Address {
  address: string;
  name?: string;
}

/** An email as MailDev's REST API (GET /api/email) returns it. */
export interface MailMessage {
  id: string;
  subject: string;
  text?: string;
  html?: string;
  from: Address[];
  to: Address[];
  /** Every recipient the SMTP transaction named, Bcc included. */
  envelope?: { to?: Address[] };
  /** When MailDev received it (ISO 8601). */
  time: string;
}

export interface MailOptions {
  /** Only messages received from then on; by default since the test started. */
  since?: Date;
  /** How long to wait, in ms (10 s by default). */
  timeout?: number;
  /** Wait for a message whose text contains this, not only for the first message. */
  containing?: string | RegExp;
}

async function fetchMail(): Promise<MailMessage[]> {
  const api = `${mailUrl}/api/email`;
  let response: Response;
  try {
    response = await fetch(api);
  } catch (error) {
    throw new Error(`the SMTP sink's API (${api}) did not answer: ${String(error)}`);
  }
  if (!response.ok) throw new Error(`the SMTP sink's API (${api}) answered ${response.status}`);
  return (await response.json()) as MailMessage[];
}

function recipients(message: MailMessage): string[] {
  const all = [...message.to, ...(message.envelope?.to ?? [])].map((a) => a.address.toLowerCase());
  return [...new Set(all)];
}

async function mail(to: string, testStart: Date, options: MailOptions = {}): Promise<MailMessage[]> {
  const since = options.since ?? testStart;
  const wanted = to.trim().toLowerCase();
  const containing = options.containing;
  const carries = (m: MailMessage): boolean =>
    containing === undefined ||
    (typeof containing === 'string' ? (m.text ?? '').includes(containing) : containing.test(m.text ?? ''));
  let matching: MailMessage[] = [];
  await expect
    .poll(
      async () => {
        const recent = (await fetchMail()).filter((m) => Date.parse(m.time) >= since.getTime());
        matching = recent
          .filter((m) => recipients(m).includes(wanted))
          .sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
        // On failure Playwright prints this: who did get such mail meanwhile.
        return recent.filter(carries).flatMap(recipients);
      },
      {
        message: `an email to ${to}${containing === undefined ? '' : ` containing ${String(containing)}`} at the SMTP sink (${mailUrl}) since ${since.toISOString()}`,
        timeout: options.timeout ?? 10_000,
        intervals: [100, 250, 500],
      },
    )
    .toContain(wanted);
  return matching;
}

// ---------------------------------------------------------------- the test

type Fixtures = {
  newPage: () => Promise<Page>;
  checkPage: (page: Page, name: string) => Promise<void>;
  expectWithinBudget: (page: Page, kind: string, action: () => Promise<unknown>) => Promise<PageWeight>;
  mail: (to: string, options?: MailOptions) => Promise<MailMessage[]>;
};

export const test = base.extend<Fixtures>({
  page: async ({ page, baseURL }, use) => {
    if (!baseURL) {
      throw new Error(
        'BASE_URL is not set: run deploy/scripts/check-browser.sh, or point BASE_URL at a ' +
          'running gateway (e.g. BASE_URL=http://127.0.0.1:8080 npx playwright test)',
      );
    }
    const origin = new URL(baseURL).origin;
    const leaks = await guardOrigin(page, origin);
    await use(page);
    expect(
      leaks,
      `the page sent requests away from the platform (${origin}); the web pages must not ` +
        `load anything from elsewhere:\n  ${leaks.join('\n  ')}\n`,
    ).toEqual([]);
  },
  newPage: async (
    { browser, baseURL, viewport, deviceScaleFactor, isMobile, hasTouch, locale, javaScriptEnabled },
    use,
  ) => {
    const origin = new URL(baseURL!).origin;
    const opened: { page: Page; leaks: string[] }[] = [];
    await use(async () => {
      const context = await browser.newContext({
        baseURL,
        viewport,
        deviceScaleFactor,
        isMobile,
        hasTouch,
        locale,
        javaScriptEnabled,
      });
      const page = await context.newPage();
      opened.push({ page, leaks: await guardOrigin(page, origin) });
      return page;
    });
    const leaks = opened.flatMap((o) => o.leaks);
    await Promise.all(opened.map((o) => o.page.context().close()));
    expect(
      leaks,
      `a page sent requests away from the platform (${origin}); the web pages must not ` +
        `load anything from elsewhere:\n  ${leaks.join('\n  ')}\n`,
    ).toEqual([]);
  },
  // eslint-disable-next-line no-empty-pattern
  checkPage: async ({}, use, testInfo) => {
    await use((page, name) => checkPage(page, name, testInfo));
  },
  // eslint-disable-next-line no-empty-pattern
  expectWithinBudget: async ({}, use, testInfo) => {
    await use((page, kind, action) => expectWithinBudget(page, kind, action, testInfo));
  },
  // eslint-disable-next-line no-empty-pattern
  mail: async ({}, use) => {
    const testStart = new Date();
    await use((to, options) => mail(to, testStart, options));
  },
});
