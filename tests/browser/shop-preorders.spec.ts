// Harvest pre-orders (预售), as a cooperative and its buyers use them from their
// phones: the owner opens next season's harvest for pre-order in the admin with a
// deposit; a buyer pre-orders from the product page (the variant has no stock yet)
// and pays the deposit; the owner announces the harvest; the buyer opens the
// balance link from the email, in a browser of their own, and pays the balance.
// A harvest called off refunds every pre-order in full. Texts come from the Fluent
// files (./support), so a page in the wrong language fails here. The product each
// test sells is new (made through the public API) so no other journey touches it.
import type { APIRequestContext, Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { type Lang, password, t, tPattern, unique } from './support';

const shop = 'zhongning-goji';
const XINJIANG = '新疆维吾尔自治区';
const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

// ---------------------------------------------------------------- set-up through the API

async function ownerToken(request: APIRequestContext): Promise<string> {
  const email = `owner@${shop}.example.cn`;
  const answer = await request.post('/v1/auth/login', { data: { email, password: password() } });
  expect(answer.status(), `${email} logs in to the API`).toBe(200);
  return (await answer.json()).access_token as string;
}

/** A new active product with one variant at ¥128.00 and no stock: next season's. */
async function newProduct(
  request: APIRequestContext,
  token: string,
  tag: string,
): Promise<{ handle: string; title: string; variant: string; sku: string }> {
  const handle = tag.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  const title = `新季枸杞 ${tag}`;
  const sku = `PRE-${tag}`.toUpperCase().slice(0, 60);
  const answer = await request.post('/v1/products', {
    headers: { authorization: `Bearer ${token}` },
    data: {
      handle,
      title: { 'zh-CN': title, ug: `يېڭى لەڭزە ${tag}`, en: `New-season goji ${tag}` },
      status: 'active',
      images: [],
      variants: [
        {
          sku,
          title: { 'zh-CN': '500克', ug: '500 گرام' },
          unit: 'box',
          weight_grams: 600,
          prices: [{ amount: 12800, currency: 'CNY' }],
          stock: 0,
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

/** An open campaign on `variant` with a ¥30.00 deposit, through the API. */
async function newCampaign(request: APIRequestContext, token: string, variant: string): Promise<string> {
  const answer = await request.post('/v1/preorder-campaigns', {
    headers: { authorization: `Bearer ${token}` },
    data: {
      variant_id: variant,
      allocation: 10,
      ships_from: shipsFrom(),
      deposits: [{ amount: 3000, currency: 'CNY' }],
      balance_days: 7,
      deposit_policy: 'forfeit',
    },
  });
  expect(answer.status(), `the campaign is made: ${await answer.text()}`).toBe(201);
  return (await answer.json()).id as string;
}

/** Sixty days from now, as a date field takes it. */
function shipsFrom(): string {
  return new Date(Date.now() + 60 * 24 * 3600 * 1000).toISOString().slice(0, 10);
}

/** `2027-02-03` as the page writes it in `lang`. */
function dayIn(lang: Lang, date: string): string {
  const [y, m, d] = date.split('-');
  return lang === 'zh-CN' ? `${y}年${m}月${d}日` : date;
}

// ---------------------------------------------------------------- steps

async function signInToAdmin(page: Page): Promise<void> {
  const lang: Lang = 'zh-CN';
  await page.goto(`/admin/sign-in?lang=${lang}`);
  await page.getByLabel(t(lang, 'field-email-label'), { exact: true }).fill(`owner@${shop}.example.cn`);
  await page.getByLabel(t(lang, 'field-password'), { exact: true }).fill(password());
  await page.getByRole('button', { name: t(lang, 'admin-sign-in-button'), exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(t(lang, 'admin-today-title'));
}

const orderStatus = (page: Page) => page.locator('p.status strong');

/** From the product page's pre-order box through the pre-order checkout to the order. */
async function preorder(
  page: Page,
  lang: Lang,
  email: string,
  check?: (page: Page, name: string) => Promise<void>,
  budget?: (action: () => Promise<unknown>) => Promise<unknown>,
): Promise<string> {
  const box = page.getByRole('region', { name: t(lang, 'preorder-heading') });
  const click = () => box.getByRole('button', { name: t(lang, 'preorder-button') }).click();
  if (budget) await budget(click);
  else await click();
  await expect(page).toHaveURL(new RegExp(`/s/${shop}/${lang}/preorder-checkout$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(t(lang, 'preorder-checkout-title'));
  const summary = page.locator('section.summary');
  await expect(summary).toContainText('¥30.00');
  const where = page.locator('form.destination');
  await where.getByLabel(t(lang, 'field-country')).selectOption('CN');
  await where.getByLabel(t(lang, 'field-province-china')).selectOption(XINJIANG);
  await where.getByRole('button', { name: t(lang, 'checkout-show-shipping') }).click();
  await expect(page).toHaveURL(/\/preorder-checkout\?.*province=/);
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
  await expect(options.first(), 'the pre-order checkout offers no shipping option').toBeVisible();
  await options.first().check();
  if (check) await check(page, 'preorder-02-checkout');
  await page.getByRole('button', { name: t(lang, 'checkout-place') }).click();
  await expect(page).toHaveURL(new RegExp(`/s/${shop}/${lang}/orders/${uuid}$`));
  await expect(orderStatus(page)).toHaveText(t(lang, 'status-pending_payment'));
  return page.url();
}

/** Pays what the order's card form asks (its button named by `key`) with the test card. */
async function payByCard(page: Page, lang: Lang, key: string, amount: string): Promise<void> {
  const pay = page.getByRole('region', { name: t(lang, 'pay-heading') });
  await pay.getByLabel(t(lang, 'pay-card-number')).fill('4242 4242 4242 4242');
  await pay.getByRole('button', { name: t(lang, key, { total: amount }) }).click();
  await page.waitForURL(/[?&]outcome=paid/);
}

// ---------------------------------------------------------------- the tests

test.describe('harvest pre-orders', () => {
  test.use({ locale: 'zh-CN' });

  test('staff open a harvest with a deposit; a buyer pre-orders with no stock, pays the deposit, and the balance from the email', async ({
    page,
    newPage,
    request,
    checkPage,
    expectWithinBudget,
    mail,
  }, testInfo) => {
    const lang: Lang = 'zh-CN';
    const tag = unique(testInfo, 'pre');
    const product = await newProduct(request, await ownerToken(request), tag);
    const ships = shipsFrom();

    // The owner opens the harvest in the admin: More, Pre-orders, New.
    await signInToAdmin(page);
    await page.getByRole('link', { name: t(lang, 'admin-more'), exact: true }).click();
    await expectWithinBudget(page, 'admin', () =>
      page.getByRole('link', { name: t(lang, 'admin-preorders-title'), exact: true }).click(),
    );
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(t(lang, 'admin-preorders-title'));
    await checkPage(page, 'preorder-admin-01-list');
    await page.getByRole('link', { name: t(lang, 'admin-preorder-new') }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(t(lang, 'admin-preorder-new'));
    const variant = page.getByLabel(t(lang, 'admin-preorder-variant'));
    await variant.selectOption({ label: (await variant.locator('option', { hasText: product.sku }).textContent())!.trim() });
    await page.getByLabel(t(lang, 'admin-preorder-allocation')).fill('10');
    await page.getByLabel(t(lang, 'admin-preorder-ships-from')).fill(ships);
    await page.getByLabel(t(lang, 'admin-preorder-by-deposit')).check();
    await page.getByLabel(`${t(lang, 'admin-preorder-deposit')} (CNY)`).fill('30');
    await page.getByLabel(t(lang, 'admin-preorder-balance-days')).fill('7');
    await page.getByLabel(t(lang, 'admin-preorder-policy-forfeit')).check();
    await checkPage(page, 'preorder-admin-02-new');
    await expectWithinBudget(page, 'admin', () =>
      page.getByRole('button', { name: t(lang, 'admin-preorder-create') }).click(),
    );
    await expect(page).toHaveURL(new RegExp(`/admin/preorders/${uuid}\\?done=created$`));
    await expect(page.locator('main .notice.good[role="status"]')).toHaveText(t(lang, 'admin-preorder-created'));
    await expect(page.getByRole('heading', { level: 1 })).toContainText(product.title);
    await expect(page.getByRole('heading', { level: 1 })).toContainText(t(lang, 'admin-preorder-status-open'));
    const campaignPage = page.url().replace(/\?.*$/, '');
    await checkPage(page, 'preorder-admin-03-campaign');

    // The product page: out of stock, but open for pre-order.
    const buyer = await newPage();
    await expectWithinBudget(buyer, 'product-page', () => buyer.goto(`/s/${shop}/${lang}/p/${product.handle}`));
    await expect(buyer.getByRole('button', { name: t(lang, 'add-to-cart') })).toHaveCount(0);
    const box = buyer.getByRole('region', { name: t(lang, 'preorder-heading') });
    await expect(box).toContainText('¥128.00');
    await expect(box).toContainText(t(lang, 'preorder-ships-from', { date: dayIn(lang, ships) }));
    await expect(box).toContainText(t(lang, 'preorder-deposit-terms', { deposit: '¥30.00', balance: '¥98.00' }));
    await expect(box).toContainText(t(lang, 'preorder-units-left', { count: 10 }));
    await expect(box).toContainText(t(lang, 'preorder-policy-forfeit', { days: 7 }));
    await expect(box.locator('bdi', { hasText: '¥30.00' })).toHaveCount(1);
    await checkPage(buyer, 'preorder-01-product-zh');

    // The same box in Uyghur, right to left.
    await buyer.goto(`/s/${shop}/ug/p/${product.handle}`);
    await expect(buyer.locator('html')).toHaveAttribute('dir', 'rtl');
    const boxUg = buyer.getByRole('region', { name: t('ug', 'preorder-heading') });
    await expect(boxUg).toContainText(t('ug', 'preorder-deposit-terms', { deposit: '¥30.00', balance: '¥98.00' }));
    await checkPage(buyer, 'preorder-01-product-ug');

    await buyer.goto(`/s/${shop}/${lang}/p/${product.handle}`);
    const email = `buyer-${tag}@example.cn`;
    const order = await preorder(buyer, lang, email, checkPage, (action) =>
      expectWithinBudget(buyer, 'checkout', action),
    );
    const waiting = buyer.getByRole('region', { name: t(lang, 'preorder-order-pending', { date: dayIn(lang, ships) }) });
    await expect(waiting).toContainText('¥30.00');
    await payByCard(buyer, lang, 'pay-deposit-button', '¥30.00');
    await expect(buyer.locator('.notice.good')).toHaveText(t(lang, 'payment-succeeded-preorder'));
    await expect(orderStatus(buyer)).toHaveText(t(lang, 'status-preordered'));
    const held = buyer.getByRole('region', { name: t(lang, 'preorder-order-waiting', { date: dayIn(lang, ships) }) });
    await expect(held).toContainText(t(lang, 'preorder-deposit-paid'));
    await expect(held).toContainText(t(lang, 'preorder-balance-due'));
    await expect(held).toContainText(t(lang, 'preorder-order-balance-later'));
    await expect(buyer.getByRole('region', { name: t(lang, 'pay-heading') })).toHaveCount(0);
    const balance = (await held.locator('dd bdi').last().textContent())!.trim();
    expect(balance, 'the balance is the rest of the price and the shipping').toMatch(/^¥\d+\.\d\d$/);
    expect(Number(balance.slice(1))).toBeGreaterThanOrEqual(98);
    await checkPage(buyer, 'preorder-03-order-preordered-zh');
    await buyer.goto(order.replace(`/${lang}/orders/`, '/ug/orders/'));
    await expect(orderStatus(buyer)).toHaveText(t('ug', 'status-preordered'));
    await expect(buyer.locator('html')).toHaveAttribute('dir', 'rtl');
    await checkPage(buyer, 'preorder-03-order-preordered-ug');

    // The admin lists the pre-order; the owner announces the harvest after its page.
    await page.goto(campaignPage);
    const row = page.locator('#orders li').first();
    await expect(row).toContainText(t(lang, 'status-preordered'));
    await page.getByRole('link', { name: t(lang, 'admin-preorder-announce') }).click();
    await expect(page).toHaveURL(new RegExp(`/admin/preorders/${uuid}/harvest$`));
    await expect(page.locator('main')).toContainText(t(lang, 'admin-preorder-announce-explained', { days: 7 }));
    await checkPage(page, 'preorder-admin-04-announce');
    await page.getByRole('button', { name: t(lang, 'admin-preorder-announce-confirm') }).click();
    await expect(page).toHaveURL(new RegExp(`/admin/preorders/${uuid}\\?done=harvested$`));
    await expect(page.getByRole('heading', { level: 1 })).toContainText(t(lang, 'admin-preorder-status-harvested'));
    await expect(page.getByRole('link', { name: t(lang, 'admin-preorder-announce') })).toHaveCount(0);

    // The email's balance link opens the order in a browser that never saw it.
    // (The order's confirmation carries its own link: the balance email is the one
    // asking for the balance, 支付尾款.)
    const messages = await mail(email, { containing: '支付尾款', timeout: 20_000 });
    const text = messages.map((m) => m.text ?? '').find((body) => body.includes('支付尾款')) ?? '';
    const link = new RegExp(`https?://[^\\s]+/s/${shop}/${lang}/orders/${uuid}\\?token=[A-Za-z0-9_-]+`).exec(text);
    expect(link, `the balance email carries the order's link: ${text}`).not.toBeNull();
    const url = new URL(link![0]);
    expect(url.pathname).toBe(new URL(order).pathname);
    const elsewhere = await newPage();
    await expectWithinBudget(elsewhere, 'order-page', () => elsewhere.goto(url.pathname + url.search));
    await expect(orderStatus(elsewhere)).toHaveText(t(lang, 'status-preordered'));
    const due = elsewhere.getByRole('region', { name: tPattern(lang, 'preorder-order-balance-now') });
    await expect(due).toContainText(balance);
    await expect(due).toContainText(t(lang, 'preorder-order-harvest-in'));
    await expect(elsewhere.getByRole('region', { name: t(lang, 'pay-heading') })).toContainText(
      tPattern(lang, 'preorder-pay-balance-by-forfeit'),
    );
    await checkPage(elsewhere, 'preorder-04-order-balance-due');
    // The same link in Uyghur reads right to left, the amounts and the deadline whole.
    await elsewhere.goto(url.pathname.replace(`/${lang}/orders/`, '/ug/orders/') + url.search);
    await expect(elsewhere.locator('html')).toHaveAttribute('dir', 'rtl');
    await expect(elsewhere.getByRole('region', { name: tPattern('ug', 'preorder-order-balance-now') })).toContainText(balance);
    await checkPage(elsewhere, 'preorder-04-order-balance-due-ug');
    await elsewhere.goto(url.pathname + url.search);
    await payByCard(elsewhere, lang, 'pay-balance-button', balance);
    await expect(elsewhere.locator('.notice.good')).toHaveText(t(lang, 'payment-succeeded-balance'));
    await expect(orderStatus(elsewhere)).toHaveText(t(lang, 'status-paid'));
    await expect(elsewhere.getByRole('region', { name: t(lang, 'preorder-order-heading', { date: dayIn(lang, ships) }) })).toContainText(
      t(lang, 'preorder-order-shipping'),
    );
    await checkPage(elsewhere, 'preorder-05-order-paid');

    // The buyer's own browser shows it paid too; the admin counts it paid in full.
    await buyer.goto(order);
    await expect(orderStatus(buyer)).toHaveText(t(lang, 'status-paid'));
    await page.goto(campaignPage);
    await expect(page.locator('#orders li').first()).toContainText(t(lang, 'status-paid'));
    await checkPage(page, 'preorder-admin-05-campaign-harvested');
    await page.locator('#orders li a').first().click();
    await expect(page).toHaveURL(new RegExp(`/admin/orders/${uuid}$`));
    await expect(page.locator('h1 .status')).toHaveText(t(lang, 'status-paid'));
    await expect(
      page.getByRole('link', { name: t(lang, 'admin-order-preorder', { date: dayIn(lang, ships) }), exact: true }),
    ).toHaveAttribute('href', new URL(campaignPage).pathname);
    await checkPage(page, 'preorder-admin-06-order');
  });

  test('a harvest called off in the admin cancels and refunds every pre-order in full', async ({
    page,
    newPage,
    request,
    checkPage,
  }, testInfo) => {
    const lang: Lang = 'zh-CN';
    const tag = unique(testInfo, 'preoff');
    const token = await ownerToken(request);
    const product = await newProduct(request, token, tag);
    const campaign = await newCampaign(request, token, product.variant);

    const buyer = await newPage();
    await buyer.goto(`/s/${shop}/${lang}/p/${product.handle}`);
    const order = await preorder(buyer, lang, `buyer-${tag}@example.cn`);
    await payByCard(buyer, lang, 'pay-deposit-button', '¥30.00');
    await expect(orderStatus(buyer)).toHaveText(t(lang, 'status-preordered'));

    await signInToAdmin(page);
    await page.goto('/admin/orders?status=preordered');
    await expect(page.locator('main')).toContainText(t(lang, 'status-preordered'));
    await page.goto(`/admin/preorders/${campaign}`);
    await page.getByRole('link', { name: t(lang, 'admin-preorder-call-off') }).click();
    await expect(page).toHaveURL(new RegExp(`/admin/preorders/${campaign}/call-off$`));
    await expect(page.locator('main')).toContainText(t(lang, 'admin-preorder-call-off-explained', { count: 1 }));
    await expect(page.getByLabel(t(lang, 'admin-preorder-reason'))).toHaveAttribute('required', '');
    await page.getByLabel(t(lang, 'admin-preorder-reason')).fill('冰雹毁了今年的枸杞');
    await checkPage(page, 'preorder-off-01-confirm');
    await page.getByRole('button', { name: t(lang, 'admin-preorder-call-off-confirm') }).click();
    await expect(page).toHaveURL(new RegExp(`/admin/preorders/${campaign}\\?done=called-off$`));
    await expect(page.locator('main .notice.good[role="status"]')).toHaveText(t(lang, 'admin-preorder-called-off-done'));
    await expect(page.getByRole('heading', { level: 1 })).toContainText(t(lang, 'admin-preorder-status-called_off'));
    await expect(page.locator('main')).toContainText('冰雹毁了今年的枸杞');

    await expect(async () => {
      await buyer.goto(order);
      await expect(orderStatus(buyer)).toHaveText(t(lang, 'status-cancelled'), { timeout: 500 });
    }, 'the pre-order was never cancelled after its harvest was called off').toPass({ timeout: 20_000 });
    await expect(buyer.locator('.notice.good[role="status"]')).toHaveText(
      t(lang, 'order-refunded-in-full', { total: '¥30.00' }),
    );
    await expect(buyer.locator('section.preorder')).toContainText(t(lang, 'preorder-order-called-off'));
    await checkPage(buyer, 'preorder-off-02-order-refunded');

    // The product page no longer offers the harvest.
    await buyer.goto(`/s/${shop}/${lang}/p/${product.handle}`);
    await expect(buyer.getByRole('region', { name: t(lang, 'preorder-heading') })).toHaveCount(0);
  });
});

test.describe('harvest pre-orders paid by bank transfer', () => {
  test.use({ locale: 'zh-CN' });

  test("staff mark a pre-order's balance paid once the harvest is in", async ({
    page,
    newPage,
    request,
    checkPage,
  }, testInfo) => {
    const lang: Lang = 'zh-CN';
    const tag = unique(testInfo, 'pretransfer');
    const token = await ownerToken(request);
    const product = await newProduct(request, token, tag);
    const campaign = await newCampaign(request, token, product.variant);

    const buyer = await newPage();
    await buyer.goto(`/s/${shop}/${lang}/p/${product.handle}`);
    const order = await preorder(buyer, lang, `buyer-${tag}@example.cn`);
    await payByCard(buyer, lang, 'pay-deposit-button', '¥30.00');
    const harvested = await request.post(`/v1/preorder-campaigns/${campaign}/harvest`, {
      headers: { authorization: `Bearer ${token}` },
      data: {},
    });
    expect(harvested.status(), `the harvest is announced: ${await harvested.text()}`).toBe(200);

    await signInToAdmin(page);
    await page.goto(`/admin/orders/${new URL(order).pathname.split('/').pop()}`);
    await expect(page.locator('h1 .status')).toHaveText(t(lang, 'status-preordered'));
    await expect(page.getByRole('link', { name: tPattern(lang, 'admin-order-preorder') })).toContainText(
      tPattern(lang, 'admin-order-preorder-balance'),
    );
    await page.getByText(t(lang, 'admin-mark-paid'), { exact: true }).first().click();
    await page.getByLabel(t(lang, 'admin-payment-reference')).fill('TRANSFER-1');
    await checkPage(page, 'preorder-transfer-01-mark-paid');
    await page.getByRole('button', { name: t(lang, 'admin-mark-paid') }).click();
    await expect(page.locator('h1 .status')).toHaveText(t(lang, 'status-paid'));

    await buyer.goto(order);
    await expect(orderStatus(buyer)).toHaveText(t(lang, 'status-paid'));
  });
});

test.describe('harvest pre-orders without JavaScript', () => {
  test.use({ javaScriptEnabled: false, locale: 'zh-CN' });

  test('a buyer pre-orders and pays the deposit with plain forms', async ({ request, newPage, checkPage }, testInfo) => {
    const lang: Lang = 'zh-CN';
    const tag = unique(testInfo, 'prenojs');
    const token = await ownerToken(request);
    const product = await newProduct(request, token, tag);
    await newCampaign(request, token, product.variant);

    const buyer = await newPage();
    await buyer.goto(`/s/${shop}/${lang}/p/${product.handle}`);
    await preorder(buyer, lang, `buyer-${tag}@example.cn`);
    await payByCard(buyer, lang, 'pay-deposit-button', '¥30.00');
    await expect(orderStatus(buyer)).toHaveText(t(lang, 'status-preordered'));
    await checkPage(buyer, 'preorder-nojs-01-order-preordered');
  });
});
