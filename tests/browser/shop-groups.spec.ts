// Group deals (拼团), as a cooperative and its buyers use them from their phones: the
// owner sets up a deal in the admin; buyer A opens a group from the product page and
// pays; buyer B, in a browser of their own, opens the link A shares, joins and pays;
// the group forms, or, short of buyers when its time runs out, fails and everyone is
// refunded. Texts come from the Fluent files (./support), so a page in the wrong
// language fails here. The product each test sells is new (made through the public
// API) so that no other journey takes its units; this file runs after the storefront
// journeys, whose "new" shelf it would otherwise fill.
import { execFileSync } from 'node:child_process';
import type { APIRequestContext, Locator, Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { type Lang, password, t, tPattern, unique } from './support';

const shop = 'zhongning-goji';
const XINJIANG = '新疆维吾尔自治区';
const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

type CheckPage = (page: Page, name: string) => Promise<void>;

// ---------------------------------------------------------------- set-up through the API

async function ownerToken(request: APIRequestContext): Promise<string> {
  const email = `owner@${shop}.example.cn`;
  const answer = await request.post('/v1/auth/login', { data: { email, password: password() } });
  expect(answer.status(), `${email} logs in to the API`).toBe(200);
  return (await answer.json()).access_token as string;
}

/** A new active product with one variant (¥80.00, `stock` units): its handle and variant. */
async function newProduct(
  request: APIRequestContext,
  token: string,
  tag: string,
  stock = 20,
): Promise<{ handle: string; title: string; variant: string; sku: string }> {
  const handle = tag.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  const title = `拼团枸杞 ${tag}`;
  const sku = `GRP-${tag}`.toUpperCase().slice(0, 60);
  const answer = await request.post('/v1/products', {
    headers: { authorization: `Bearer ${token}` },
    data: {
      handle,
      title: { 'zh-CN': title, ug: `گۇرۇپپا لەڭزە ${tag}`, en: `Group goji ${tag}` },
      status: 'active',
      images: [],
      variants: [
        {
          sku,
          title: { 'zh-CN': '250克' },
          unit: 'box',
          weight_grams: 300,
          prices: [{ amount: 8000, currency: 'CNY' }],
          stock,
          track_stock: true,
          low_stock_threshold: 2,
        },
      ],
    },
  });
  expect(answer.status(), `the product is made: ${await answer.text()}`).toBe(201);
  const product = await answer.json();
  return { handle, title, variant: product.variants[0].id, sku };
}

/** A live deal on `variant` through the API (the admin's own form is the first test's). */
async function newDeal(
  request: APIRequestContext,
  token: string,
  variant: string,
  groupSize: number,
): Promise<string> {
  const answer = await request.post('/v1/group-deals', {
    headers: { authorization: `Bearer ${token}` },
    data: {
      variant_id: variant,
      prices: [{ amount: 5900, currency: 'CNY' }],
      group_size: groupSize,
      open_hours: 2,
      max_units: 10,
      ends_at: new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString(),
    },
  });
  expect(answer.status(), `the deal is made: ${await answer.text()}`).toBe(201);
  return (await answer.json()).id as string;
}

/** Runs `sql` in the order service's database of this run. */
function orderDatabase(sql: string): string {
  const prefix = process.env.CARAVAN_DATABASE_PREFIX;
  if (!prefix) throw new Error('CARAVAN_DATABASE_PREFIX is not set (deploy/scripts/check-browser.sh sets it)');
  return execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', `${prefix}_order`, '-qtAc', sql], {
    encoding: 'utf8',
  }).trim();
}

// ---------------------------------------------------------------- steps

/** Signs in to the admin in Chinese as the shop's owner. */
async function signInToAdmin(page: Page): Promise<void> {
  const lang: Lang = 'zh-CN';
  await page.goto(`/admin/sign-in?lang=${lang}`);
  await page.getByLabel(t(lang, 'field-email-label'), { exact: true }).fill(`owner@${shop}.example.cn`);
  await page.getByLabel(t(lang, 'field-password'), { exact: true }).fill(password());
  await page.getByRole('button', { name: t(lang, 'admin-sign-in-button'), exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(t(lang, 'admin-today-title'));
}

const orderStatus = (page: Page) => page.locator('p.status strong');

/** An element's box, which it must have. */
async function box(locator: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  const found = await locator.boundingBox();
  expect(found, `${locator} has no box`).not.toBeNull();
  return found!;
}

/**
 * On the group checkout: the group price, Xinjiang, contact and address, the first
 * shipping option; places the order and lands on its page, waiting for payment.
 */
async function groupCheckout(page: Page, lang: Lang, email: string, checkPage?: CheckPage, name?: string): Promise<string> {
  await expect(page).toHaveURL(new RegExp(`/s/${shop}/${lang}/group-checkout(\\?.*)?$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(t(lang, 'group-checkout-title'));
  const summary = page.locator('section.summary');
  await expect(summary.locator('.group-price')).toContainText('59.00');
  await expect(summary.locator('.group-price s')).toContainText('80.00');
  const where = page.locator('form.destination');
  await where.getByLabel(t(lang, 'field-country')).selectOption('CN');
  await where.getByLabel(t(lang, 'field-province-china')).selectOption(XINJIANG);
  await where.getByRole('button', { name: t(lang, 'checkout-show-shipping') }).click();
  await expect(page).toHaveURL(new RegExp(`/group-checkout\\?.*province=`));
  const form = page.locator('form.checkout');
  const field = (key: string) => form.getByLabel(t(lang, key), { exact: true });
  await field('field-email-label').fill(email);
  await field('field-phone-label').fill('138 9912 3456');
  await field('field-recipient').fill('王芳');
  await field('field-city').fill('乌鲁木齐市');
  await field('field-district').fill('天山区');
  await field('field-street').fill('解放南路 88 号');
  await field('field-postal_code').fill('830002');
  const options = page.getByRole('group', { name: t(lang, 'checkout-shipping') }).getByRole('radio');
  await expect(options.first(), 'the group checkout offers no shipping option').toBeVisible();
  await options.first().check();
  if (checkPage) await checkPage(page, name ?? 'group-checkout');
  await page.getByRole('button', { name: t(lang, 'checkout-place') }).click();
  await expect(page).toHaveURL(new RegExp(`/s/${shop}/${lang}/orders/${uuid}(\\?.*)?$`));
  await expect(orderStatus(page)).toHaveText(t(lang, 'status-pending_payment'));
  await expect(page.getByRole('region', { name: t(lang, 'order-items') })).toContainText('59.00');
  return page.url().replace(/\?.*$/, '');
}

/** On an order waiting for payment: pays with the test card that succeeds. */
async function payByCard(page: Page, lang: Lang): Promise<void> {
  const pay = page.getByRole('region', { name: t(lang, 'pay-heading') });
  await pay.getByLabel(t(lang, 'pay-card-number')).fill('4242 4242 4242 4242');
  await pay.getByRole('button', { name: tPattern(lang, 'pay-card-button') }).click();
  await page.waitForURL(/[?&]outcome=paid/);
}

/** The group's share link on an order or group page, as a path on this platform. */
async function sharePath(page: Page, lang: Lang): Promise<string> {
  const input = page.getByLabel(t(lang, 'group-share-link'), { exact: true });
  const link = await input.inputValue();
  // The link is on the platform's public origin (PUBLIC_URL), which need not be the
  // address these tests reach the platform at.
  expect(link).toMatch(new RegExp(`^https?://[^/]+/s/${shop}/${lang}/g/${uuid}$`));
  await expect(page.locator('figure.share-qr svg')).toBeVisible();
  return new URL(link).pathname;
}

// ---------------------------------------------------------------- the tests

test.describe('group deals', () => {
  test.use({ locale: 'zh-CN' });

  test('staff make a deal; A opens a group and pays; B joins from the shared link and pays; the group forms', async ({
    page,
    newPage,
    request,
    checkPage,
    expectWithinBudget,
  }, testInfo) => {
    const lang: Lang = 'zh-CN';
    const tag = unique(testInfo, 'grp');
    const product = await newProduct(request, await ownerToken(request), tag);

    // The owner makes the deal in the admin: More, Group deals, New.
    await signInToAdmin(page);
    await page.getByRole('link', { name: t(lang, 'admin-more'), exact: true }).click();
    await expectWithinBudget(page, 'admin', () =>
      page.getByRole('link', { name: t(lang, 'admin-deals-title'), exact: true }).click(),
    );
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(t(lang, 'admin-deals-title'));
    await checkPage(page, 'group-admin-01-deals');
    await page.getByRole('link', { name: t(lang, 'admin-deal-new') }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(t(lang, 'admin-deal-new'));
    const variant = page.getByLabel(t(lang, 'admin-deal-variant'));
    await variant.selectOption({ label: (await variant.locator('option', { hasText: product.sku }).textContent())!.trim() });
    await page.getByLabel(`${t(lang, 'admin-deal-price')} (CNY)`).fill('59');
    await page.getByLabel(t(lang, 'admin-deal-size-heading')).fill('2');
    await page.getByLabel(t(lang, 'admin-deal-hours-heading')).fill('2');
    await page.getByLabel(t(lang, 'admin-deal-max-units')).fill('10');
    await checkPage(page, 'group-admin-02-new-deal');
    await page.getByRole('button', { name: t(lang, 'admin-deal-create') }).click();
    await expect(page).toHaveURL(new RegExp(`/admin/group-deals/${uuid}\\?done=created$`));
    await expect(page.locator('main .notice.good[role="status"]')).toHaveText(t(lang, 'admin-deal-created'));
    await expect(page.getByRole('heading', { level: 1 })).toContainText(product.title);
    await expect(page.getByRole('heading', { level: 1 })).toContainText(t(lang, 'admin-deal-status-live'));
    const dealPage = page.url().replace(/\?.*$/, '');
    await checkPage(page, 'group-admin-03-deal');

    // Buyer A has one box in the shop's cart already.
    const buyerA = await newPage();
    await buyerA.goto(`/s/${shop}/${lang}/p/${product.handle}`);
    await buyerA.getByRole('button', { name: t(lang, 'add-to-cart') }).click();
    await expect(buyerA).toHaveURL(new RegExp(`/s/${shop}/${lang}/cart$`));
    await expect(buyerA.locator('.cart-link .count')).toHaveText('1');

    // The product page offers the group price; "Start a group".
    await expectWithinBudget(buyerA, 'product-page', () => buyerA.goto(`/s/${shop}/${lang}/p/${product.handle}`));
    const offer = buyerA.getByRole('region', { name: t(lang, 'group-offer-heading') });
    await expect(offer).toContainText('¥59.00');
    await expect(offer.locator('s')).toContainText('¥80.00');
    await expect(offer).toContainText(t(lang, 'group-people', { size: 2 }));
    await checkPage(buyerA, 'group-01-product-offer');
    await expectWithinBudget(buyerA, 'checkout', () =>
      offer.getByRole('button', { name: t(lang, 'group-start') }).click(),
    );
    const emailA = `buyer-a-${tag}@example.cn`;
    const orderA = await groupCheckout(buyerA, lang, emailA, checkPage, 'group-02-checkout');
    await payByCard(buyerA, lang);
    await expect(buyerA.locator('.notice.good')).toHaveText(t(lang, 'payment-succeeded-group'));
    await expect(orderStatus(buyerA)).toHaveText(t(lang, 'status-awaiting_group'));
    const groupA = buyerA.getByRole('region', { name: t(lang, 'group-order-heading') });
    await expect(groupA).toContainText(t(lang, 'group-joined', { joined: 1, size: 2 }));
    await expect(groupA).toContainText(tPattern(lang, 'group-time-left'));
    const shared = await sharePath(buyerA, lang);
    await checkPage(buyerA, 'group-03-order-awaiting-group');
    // A's shop cart is untouched by the group's: the one box, at its normal price.
    await expect(buyerA.locator('.cart-link .count')).toHaveText('1');
    await buyerA.goto(`/s/${shop}/${lang}/cart`);
    await expect(buyerA.locator('#cart')).toContainText(product.title);
    await expect(buyerA.locator('#cart')).toContainText('¥80.00');
    await buyerA.goto(orderA);

    // Buyer B, in a browser of their own, opens the shared link.
    const buyerB = await newPage();
    const opened = await expectWithinBudget(buyerB, 'group-page', () => buyerB.goto(shared));
    expect(opened.url).toContain(shared);
    await expect(buyerB.getByRole('heading', { level: 1 })).toHaveText(product.title);
    await expect(buyerB.locator('.group-state h2')).toHaveText(t(lang, 'group-status-forming'));
    await expect(buyerB.locator('.group-count')).toHaveText(t(lang, 'group-joined', { joined: 1, size: 2 }));
    await expect(buyerB.getByRole('progressbar', { name: t(lang, 'group-progress') })).toHaveAttribute('aria-valuenow', '1');
    await expect(buyerB.locator('meta[property="og:description"]')).toHaveAttribute('content', /¥59\.00/);
    await checkPage(buyerB, 'group-04-share-zh');

    // The same page in Uyghur, right to left: the bar fills from the right.
    await buyerB.goto(shared.replace(`/${lang}/g/`, '/ug/g/'));
    await expect(buyerB.locator('html')).toHaveAttribute('dir', 'rtl');
    await expect(buyerB.locator('.group-count')).toHaveText(t('ug', 'group-joined', { joined: 1, size: 2 }));
    await expect(buyerB.locator('.group-time')).toContainText(tPattern('ug', 'group-time-left'));
    const bar = await box(buyerB.locator('.group-bar'));
    const joined = await box(buyerB.locator('.group-bar span.on'));
    const open = await box(buyerB.locator('.group-bar span:not(.on)'));
    expect(Math.abs(joined.x + joined.width - (bar.x + bar.width)), 'the joined place sits at the right end').toBeLessThanOrEqual(2);
    expect(open.x, 'the open place is left of the joined one').toBeLessThan(joined.x);
    await checkPage(buyerB, 'group-04-share-ug');

    await buyerB.goto(shared);
    await buyerB.getByRole('button', { name: t(lang, 'group-join') }).click();
    const orderB = await groupCheckout(buyerB, lang, `buyer-b-${tag}@example.cn`);
    await payByCard(buyerB, lang);
    // B's payment fills the group: both orders are paid.
    await expect(orderStatus(buyerB)).toHaveText(t(lang, 'status-paid'));
    const groupB = buyerB.getByRole('region', { name: t(lang, 'group-order-heading') });
    await expect(groupB).toContainText(t(lang, 'group-order-formed'));
    await checkPage(buyerB, 'group-05-order-formed');
    await buyerA.goto(orderA);
    await expect(orderStatus(buyerA)).toHaveText(t(lang, 'status-paid'));
    await expect(buyerA.getByRole('region', { name: t(lang, 'group-order-heading') })).toContainText(
      t(lang, 'group-joined', { joined: 2, size: 2 }),
    );
    expect(orderB).not.toBe(orderA);

    // The share page says the group formed and offers a new one.
    await buyerB.goto(shared);
    await expect(buyerB.locator('.group-state h2')).toHaveText(t(lang, 'group-status-formed'));
    await expect(buyerB.locator('.group-count')).toHaveText(t(lang, 'group-joined', { joined: 2, size: 2 }));
    await expect(buyerB.getByRole('button', { name: t(lang, 'group-join') })).toHaveCount(0);
    await expect(buyerB.getByRole('button', { name: t(lang, 'group-open-new') })).toBeVisible();
    // A closed group is not passed on: its page offers a new group instead.
    await expect(buyerB.getByRole('region', { name: t(lang, 'group-share-heading') })).toHaveCount(0);
    await checkPage(buyerB, 'group-06-share-formed');

    await buyerB.goto(shared.replace(`/${lang}/g/`, '/ug/g/'));
    await expect(buyerB.locator('.group-state h2')).toHaveText(t('ug', 'group-status-formed'));
    await expect(buyerB.locator('.group-count')).toHaveText(t('ug', 'group-joined', { joined: 2, size: 2 }));
    await checkPage(buyerB, 'group-07-share-formed-ug');

    // The admin shows the group formed, with both orders linking to their pages.
    await page.goto(`${dealPage}?status=formed`);
    const group = page.locator('#groups .group-row').first();
    await expect(group).toContainText(t(lang, 'admin-group-status-formed'));
    await expect(group.getByRole('link')).toHaveCount(2);
    await checkPage(page, 'group-admin-04-deal-formed');
    await group.getByRole('link').first().click();
    await expect(page).toHaveURL(new RegExp(`/admin/orders/${uuid}$`));
    await expect(page.locator('h1 .status')).toHaveText(t(lang, 'status-paid'));
    await expect(
      page.getByRole('link', {
        name: t(lang, 'admin-order-group', { joined: 2, size: 2, status: t(lang, 'admin-group-status-formed') }),
      }),
    ).toHaveAttribute('href', new RegExp(`^/admin/group-deals/${uuid}\\?status=formed#group-${uuid}$`));
  });

  test('a group that does not fill in time fails: both buyers are refunded in full', async ({
    request,
    newPage,
    checkPage,
  }, testInfo) => {
    const lang: Lang = 'zh-CN';
    const tag = unique(testInfo, 'grpfail');
    const token = await ownerToken(request);
    const product = await newProduct(request, token, tag);
    await newDeal(request, token, product.variant, 3);

    const buyerA = await newPage();
    await buyerA.goto(`/s/${shop}/${lang}/p/${product.handle}`);
    await buyerA.getByRole('region', { name: t(lang, 'group-offer-heading') }).getByRole('button', { name: t(lang, 'group-start') }).click();
    const orderA = await groupCheckout(buyerA, lang, `buyer-a-${tag}@example.cn`);
    await payByCard(buyerA, lang);
    await expect(orderStatus(buyerA)).toHaveText(t(lang, 'status-awaiting_group'));
    const shared = await sharePath(buyerA, lang);
    const groupId = shared.split('/').pop()!;

    const buyerB = await newPage();
    await buyerB.goto(shared);
    await buyerB.getByRole('button', { name: t(lang, 'group-join') }).click();
    const orderB = await groupCheckout(buyerB, lang, `buyer-b-${tag}@example.cn`);
    await payByCard(buyerB, lang);
    await expect(orderStatus(buyerB)).toHaveText(t(lang, 'status-awaiting_group'));
    await buyerB.goto(shared);
    await expect(buyerB.locator('.group-count')).toHaveText(t(lang, 'group-joined', { joined: 2, size: 3 }));
    await checkPage(buyerB, 'group-fail-01-share-forming');

    // The group's time runs out (moved in the order service's database); its sweep
    // fails the group within moments.
    const moved = orderDatabase(
      `UPDATE groups SET expires_at = now() - interval '1 second' WHERE id = '${groupId}' AND status = 'forming' RETURNING id`,
    );
    expect(moved, 'the forming group was found in the order database').toContain(groupId);

    for (const [buyer, order, name] of [
      [buyerA, orderA, 'a'],
      [buyerB, orderB, 'b'],
    ] as const) {
      await expect(async () => {
        await buyer.goto(order);
        await expect(orderStatus(buyer)).toHaveText(t(lang, 'status-cancelled'), { timeout: 500 });
      }, `order ${name} was never cancelled after its group failed`).toPass({ timeout: 20_000 });
      const total = (await buyer.locator('dl.totals strong bdi').textContent())?.trim() ?? '';
      expect(total).toMatch(/¥/);
      await expect(buyer.locator('.notice.good[role="status"]')).toHaveText(
        t(lang, 'order-refunded-in-full', { total }),
      );
      await expect(buyer.getByRole('region', { name: t(lang, 'group-order-heading') })).toContainText(
        t(lang, 'group-order-failed'),
      );
      await checkPage(buyer, `group-fail-0${name === 'a' ? 2 : 3}-order-refunded`);
    }

    await buyerB.goto(shared);
    await expect(buyerB.locator('.group-state h2')).toHaveText(t(lang, 'group-status-failed'));
    await expect(buyerB.getByRole('button', { name: t(lang, 'group-open-new') })).toBeVisible();
    await checkPage(buyerB, 'group-fail-04-share-failed');

    // A late visitor's join: the share page says the group closed and offers a new one.
    const late = await newPage();
    await late.goto(shared);
    await expect(late.getByRole('button', { name: t(lang, 'group-join') })).toHaveCount(0);
    await late.getByRole('button', { name: t(lang, 'group-open-new') }).click();
    await expect(late).toHaveURL(new RegExp(`/s/${shop}/${lang}/group-checkout$`));
    await expect(late.getByRole('heading', { level: 1 })).toHaveText(t(lang, 'group-checkout-title'));
  });
});

test.describe('group deals without JavaScript', () => {
  test.use({ javaScriptEnabled: false, locale: 'zh-CN' });

  test('a buyer opens a group, pays, and a friend joins with plain forms and links', async ({
    request,
    newPage,
    checkPage,
  }, testInfo) => {
    const lang: Lang = 'zh-CN';
    const tag = unique(testInfo, 'grpnojs');
    const token = await ownerToken(request);
    const product = await newProduct(request, token, tag);
    await newDeal(request, token, product.variant, 2);

    const buyerA = await newPage();
    await buyerA.goto(`/s/${shop}/${lang}/p/${product.handle}`);
    await buyerA.getByRole('region', { name: t(lang, 'group-offer-heading') }).getByRole('button', { name: t(lang, 'group-start') }).click();
    await groupCheckout(buyerA, lang, `buyer-a-${tag}@example.cn`);
    await payByCard(buyerA, lang);
    await expect(orderStatus(buyerA)).toHaveText(t(lang, 'status-awaiting_group'));
    const shared = await sharePath(buyerA, lang);

    const buyerB = await newPage();
    await buyerB.goto(shared);
    await expect(buyerB.locator('.group-time')).toContainText(tPattern(lang, 'group-time-left'));
    await checkPage(buyerB, 'group-nojs-01-share');
    await buyerB.getByRole('button', { name: t(lang, 'group-join') }).click();
    await groupCheckout(buyerB, lang, `buyer-b-${tag}@example.cn`);
    await payByCard(buyerB, lang);
    await expect(orderStatus(buyerB)).toHaveText(t(lang, 'status-paid'));
    await buyerB.goto(shared);
    await expect(buyerB.locator('.group-state h2')).toHaveText(t(lang, 'group-status-formed'));
  });
});
