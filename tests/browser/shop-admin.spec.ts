// The shop admin (/admin), as a cooperative's owner and staff use it from a phone:
// products with photos in three languages, stock, the CSV import, orders from
// shipping to refunds, the team, and what a shop's people may not open. Each test
// stands alone (its own browser context, its own names, emails and SKUs). Texts come
// from the Fluent files (web/locales/<lang>/*.ftl, through ./support), so a page in the
// wrong language fails here. Data a journey needs but is not about (a paid order, a
// product to upload photos to) is set up through the public API.
//
// The products these tests create are new, so they take the demo shops' "new" shelf:
// this file is named to run after the storefront journeys, which shop from it.
import * as zlib from 'node:zlib';
import type { APIRequestContext, Locator, Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { type Lang, escapeRegExp, jpegFromCanvas, password, t, tPattern, unique } from './support';

// ---------------------------------------------------------------- UI strings

/** zh-CN, the admin's main language. */
const zh = (key: string, args: Record<string, string | number> = {}) => t('zh-CN', key, args);

/** A language's name on the product form's tabs (Lang::native_name). */
const nativeName: Record<Lang, string> = { 'zh-CN': '中文', ug: 'ئۇيغۇرچە', en: 'English', ru: 'Русский' };

/** An amount as the zh-CN pages show yuan: ¥1,234.50. */
function yuan(minor: number): string {
  const sign = minor < 0 ? '-' : '';
  const magnitude = Math.abs(minor);
  const whole = Math.floor(magnitude / 100).toLocaleString('en-US');
  return `${sign}¥${whole}.${String(magnitude % 100).padStart(2, '0')}`;
}

// ---------------------------------------------------------------- people and data

const owner = (shop: string) => `owner@${shop}.example.cn`;
const staffOf = (shop: string) => `staff@${shop}.example.cn`;

/** The public API, as the shop's owner or a guest buyer. */
class Api {
  constructor(private readonly request: APIRequestContext) {}

  async login(email: string): Promise<string> {
    const answer = await this.request.post('/v1/auth/login', { data: { email, password: password() } });
    expect(answer.status(), `${email} logs in to the API`).toBe(200);
    return (await answer.json()).access_token as string;
  }

  private async call(token: string, method: string, url: string, data?: unknown): Promise<any> {
    const answer = await this.request.fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}` },
      data,
    });
    expect(answer.ok(), `${method} ${url}: ${answer.status()} ${await answer.text()}`).toBe(true);
    return answer.status() === 204 ? undefined : answer.json();
  }

  get = (token: string, url: string) => this.call(token, 'GET', url);

  /** A product with one variant per SKU, each with `stock` units, 300 g and the price in fen. */
  async createProduct(
    token: string,
    title: { 'zh-CN': string; en?: string },
    handle: string,
    variants: { sku: string; price: number; stock: number; title?: string }[],
  ): Promise<{ id: string; variants: { id: string; sku: string }[] }> {
    return this.call(token, 'POST', '/v1/products', {
      handle,
      title,
      status: 'active',
      images: [],
      variants: variants.map((v) => ({
        sku: v.sku,
        title: v.title ? { 'zh-CN': v.title } : undefined,
        unit: 'box',
        weight_grams: 300,
        prices: [{ amount: v.price, currency: 'CNY' }],
        stock: v.stock,
        track_stock: true,
        low_stock_threshold: 2,
      })),
    });
  }

  /**
   * A guest's order in `shop` for `lines`, shipped to Ürümqi and paid with the test
   * card: its id, name (#1234) and the guest's access token.
   */
  async paidOrder(
    shop: string,
    email: string,
    lines: { variant: string; quantity: number }[],
  ): Promise<{ id: string; name: string; token: string; total: number }> {
    const cart = await this.request.post(`/v1/shops/${shop}/carts`, { data: {} });
    expect(cart.status(), 'a cart opens').toBe(201);
    const { id: cartId, token: cartToken } = await cart.json();
    const headers = { 'X-Cart-Token': cartToken };
    for (const line of lines) {
      const added = await this.request.post(`/v1/shops/${shop}/carts/${cartId}/lines`, {
        headers,
        data: { variant_id: line.variant, quantity: line.quantity },
      });
      expect(added.status(), `adding ${line.quantity} × ${line.variant}: ${await added.text()}`).toBe(200);
    }
    const province = '新疆维吾尔自治区';
    const view = await this.request.get(
      `/v1/shops/${shop}/carts/${cartId}?country=CN&province=${encodeURIComponent(province)}`,
      { headers },
    );
    const rate = (await view.json()).shipping_options?.[0]?.rate_id;
    expect(rate, 'the cart offers a shipping option to Xinjiang').toBeTruthy();
    const placed = await this.request.post(`/v1/shops/${shop}/checkout`, {
      headers: { ...headers, 'Idempotency-Key': `admin-spec-${Date.now()}-${Math.random()}` },
      data: {
        cart_id: cartId,
        email,
        phone: '+86 138 9912 3456',
        shipping_address: {
          country: 'CN',
          province,
          city: '乌鲁木齐市',
          district: '天山区',
          street: '解放南路 88 号',
          postal_code: '830002',
          recipient: '王芳',
        },
        shipping_rate_id: rate,
      },
    });
    expect(placed.status(), `checkout: ${await placed.text()}`).toBe(201);
    const order = await placed.json();
    const paid = await this.request.post(`/v1/shops/${shop}/orders/${order.id}/payments`, {
      headers: { 'X-Order-Token': order.access_token },
      data: { provider: 'test', card_number: '4242424242424242' },
    });
    expect(paid.status(), `paying ${order.name}: ${await paid.text()}`).toBe(200);
    return { id: order.id, name: order.name, token: order.access_token, total: order.total.amount };
  }
}

// ---------------------------------------------------------------- files


const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A valid grey PNG of `width`×`height` whose rows are all black: tiny on disk, huge in pixels. */
function blackPng(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const rows = zlib.deflateSync(Buffer.alloc((width + 1) * height), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', rows),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A CSV field, quoted when it needs to be. */
const csvField = (value: string) => (/[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** The columns of the header line of a CSV file (no quoted commas in a header). */
const csvColumns = (header: string) => header.trim().split(',').map((c) => c.replace(/^"|"$/g, ''));

// ---------------------------------------------------------------- steps

type CheckPage = (page: Page, name: string) => Promise<void>;

const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Signs in at /admin/sign-in in `lang` as `email`; lands on the Today page. */
async function signIn(page: Page, email: string, lang: Lang, checkPage?: CheckPage, name?: string): Promise<void> {
  const answer = await page.goto(`/admin/sign-in?lang=${lang}`);
  expect(answer?.status(), 'GET /admin/sign-in').toBe(200);
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(t(lang, 'admin-sign-in-title'));
  if (checkPage) await checkPage(page, name ?? `admin-sign-in-${lang}`);
  await page.getByLabel(t(lang, 'field-email-label'), { exact: true }).fill(email);
  await page.getByLabel(t(lang, 'field-password'), { exact: true }).fill(password());
  await page.getByRole('button', { name: t(lang, 'admin-sign-in-button'), exact: true }).click();
  await expect(page, `${email} signed in to the admin`).toHaveURL(/\/admin\/?(\?.*)?$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(t(lang, 'admin-today-title'));
}

/** The admin's notice of what was just done (role=status). */
const notice = (page: Page) => page.locator('main .notice.good[role="status"]');
/** The admin's problems with what was just asked (role=alert). */
const alerts = (page: Page) => page.locator('main [role="alert"]');

/** The value shown after the `<dt>` named `term` in the order's totals. */
const total = (page: Page, term: string) =>
  page.locator('dl.kv dt', { hasText: new RegExp(`^${escapeRegExp(term)}$`) }).locator('xpath=following-sibling::dd[1]');

/** The variant fieldset `n` (1-based) of the product form. */
const variantGroup = (page: Page, n: number) => page.getByRole('group', { name: zh('admin-variant-n', { total: n }) });

/** The row of /admin/stock's table for `sku`: its cells' numbers. */
async function stockRow(page: Page, sku: string): Promise<{ onHand: number; reserved: number; available: number }> {
  await page.goto(`/admin/stock?q=${encodeURIComponent(sku)}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('admin-stock-title'));
  const row = page.locator('table.grid tbody tr', { hasText: sku });
  await expect(row, `the stock page lists ${sku}`).toHaveCount(1);
  const cells = await row.locator('td.num').allTextContents();
  const [onHand, reserved, available] = cells.map((c) => Number(c.trim()));
  return { onHand, reserved, available };
}

/** The form on the page that holds the field labelled `label`. */
const formWith = (page: Page, label: string | RegExp) =>
  page.locator('form').filter({ has: page.getByLabel(label, { exact: typeof label === 'string' }) });

/** Opens the `<details>` whose summary is `summary` (a closed admin action). */
async function openAction(page: Page, summary: string): Promise<Locator> {
  const details = page.locator('details.act').filter({
    has: page.locator('summary', { hasText: new RegExp(`^\\s*${escapeRegExp(summary)}\\s*$`) }),
  });
  await expect(details, `the order page offers "${summary}"`).toHaveCount(1);
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
  return details;
}

// ---------------------------------------------------------------- the tests

test.describe('the shop admin on a phone', () => {
  test.use({ locale: 'zh-CN' });
  test.beforeEach(async ({}, testInfo) => {
    test.skip(testInfo.project.name !== 'phone', 'the admin journeys run as a phone; the desktop has its own test');
  });

  test('the owner adds a product in three languages with a photo; the shop shows it in each', async ({
    page,
    request,
    checkPage,
    expectWithinBudget,
  }, testInfo) => {
    const shop = 'turpan-raisins';
    const tag = unique(testInfo, 'raisin');
    const titles: Record<'zh-CN' | 'ug' | 'en', string> = {
      'zh-CN': `测试葡萄干 ${tag}`,
      ug: `سىناق ئۈزۈم قېقى ${tag}`,
      en: `Test raisins ${tag}`,
    };
    const sku = `T-${tag}`.toUpperCase().slice(0, 64);

    await signIn(page, owner(shop), 'zh-CN', checkPage, 'admin-01-sign-in');
    await expectWithinBudget(page, 'admin', () => page.goto('/admin'));
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('admin-today-title'));
    await checkPage(page, 'admin-02-today');

    await page.getByRole('navigation', { name: zh('admin-sections') }).getByRole('link', { name: zh('admin-products') }).click();
    await expect(page).toHaveURL(/\/admin\/products$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('admin-products-title'));
    await checkPage(page, 'admin-03-products');

    await expectWithinBudget(page, 'admin', () => page.getByRole('link', { name: zh('admin-product-new') }).click());
    await expect(page).toHaveURL(/\/admin\/products\/new$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('admin-product-new'));
    await checkPage(page, 'admin-04-product-new');

    for (const lang of ['zh-CN', 'ug', 'en'] as const) {
      // A language's fields fold away until its tab is opened (zh-CN starts open).
      const tab = page.locator('details.lang-tab').filter({ has: page.locator('summary', { hasText: nativeName[lang] }) });
      if (!(await tab.evaluate((details) => (details as HTMLDetailsElement).open))) {
        await tab.locator('summary').click();
      }
      await page.getByLabel(`${zh('admin-product-title')} · ${nativeName[lang]}`, { exact: true }).fill(titles[lang]);
    }
    const first = variantGroup(page, 1);
    await first.getByLabel('SKU', { exact: true }).fill(sku);
    await first.getByLabel(`${zh('admin-price')} (CNY)`, { exact: true }).fill('39.90');
    await first.getByLabel(`${zh('admin-price')} (KZT)`, { exact: true }).fill('2900');
    await first.getByLabel(zh('admin-weight'), { exact: true }).fill('520');
    await first.getByLabel(zh('admin-first-stock'), { exact: true }).fill('40');
    // Variant 2 stays empty: the product has one.
    await expect(variantGroup(page, 2).getByLabel('SKU', { exact: true })).toHaveValue('');
    await page.getByRole('button', { name: zh('admin-save'), exact: true }).click();

    // Descriptions are left empty: a product needs none.
    await expect(alerts(page), 'the new product form refused the product').toHaveText([]);
    await expect(page, 'saving a new product leads to its edit page').toHaveURL(
      new RegExp(`/admin/products/${uuid}\\?done=created$`),
    );
    await expect(notice(page)).toHaveText(zh('admin-product-created'));
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(titles['zh-CN']);
    await expect(variantGroup(page, 1).getByLabel('SKU', { exact: true })).toHaveValue(sku);
    await expect(variantGroup(page, 1).getByLabel(`${zh('admin-price')} (KZT)`, { exact: true })).toHaveValue('2900.00');
    await expect(variantGroup(page, 2)).toHaveCount(0);
    const handle = await page.getByLabel(zh('admin-product-handle'), { exact: true }).inputValue();
    expect(handle, 'the product has a handle').toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    await expect(page.getByText(zh('admin-no-photos'))).toBeVisible();
    await checkPage(page, 'admin-05-product-created');

    // A photo, as a phone's camera would hand it over.
    const photo = await jpegFromCanvas(page);
    await page.getByLabel(zh('admin-photo-take'), { exact: true }).setInputFiles({
      name: 'harvest.jpg',
      mimeType: 'image/jpeg',
      buffer: photo,
    });
    await page.getByRole('button', { name: zh('admin-photo-upload'), exact: true }).click();
    await expect(page).toHaveURL(/\?done=photo$/);
    await expect(notice(page)).toHaveText(zh('admin-photo-added'));
    await expect(page.locator('ul.photos img')).toHaveCount(1);
    await expect(page.locator('ul.photos img')).toHaveAttribute('src', /\/media\//);
    await expect(page.getByText(zh('admin-no-photos'))).toHaveCount(0);
    await checkPage(page, 'admin-06-product-photo');

    // The shop shows it in each language, with the photo's sizes.
    let rendition = '';
    for (const lang of ['zh-CN', 'ug', 'en'] as const) {
      const url = `/s/${shop}/${lang}/p/${handle}`;
      const image = page.locator('main img[srcset]').first();
      await expect(async () => {
        const answer = await page.goto(url);
        expect(answer?.status(), `GET ${url}`).toBe(200);
        await expect(image).toBeAttached({ timeout: 1_000 });
      }, `${url} never showed the photo`).toPass({ timeout: 20_000 });
      await expect(page.locator('html')).toHaveAttribute('lang', lang);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(titles[lang]);
      const srcset = (await image.getAttribute('srcset')) ?? '';
      const candidates = srcset.split(',').map((c) => c.trim().split(/\s+/));
      expect(candidates.length, `srcset "${srcset}"`).toBeGreaterThan(0);
      for (const [src, width] of candidates) {
        expect(src, `srcset "${srcset}"`).toMatch(/\/media\//);
        expect(width, `srcset "${srcset}"`).toMatch(/^\d+w$/);
      }
      await expect(image).toHaveAttribute('width', /^\d+$/);
      await expect(image).toHaveAttribute('height', /^\d+$/);
      rendition = candidates[0][0];
      if (lang === 'ug') await checkPage(page, 'admin-07-storefront-product-ug');
    }

    const media = await request.get(rendition);
    expect(media.status(), `GET ${rendition}`).toBe(200);
    expect(media.headers()['content-type'], `${rendition}'s type`).toBe('image/jpeg');
    const cacheControl = media.headers()['cache-control'] ?? '';
    const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)?.[1] ?? 0);
    expect(maxAge, `${rendition}'s Cache-Control "${cacheControl}" keeps it for at least a day`).toBeGreaterThanOrEqual(86_400);
  });

  test('stock received shows in the ledger and on the product; a CSV import reports its bad row', async ({
    page,
    request,
    checkPage,
    expectWithinBudget,
  }, testInfo) => {
    const shop = 'turpan-raisins';
    const api = new Api(request);
    const token = await api.login(owner(shop));
    const tag = unique(testInfo, 'stock');
    const sku = `S-${tag}`.toUpperCase();
    const product = await api.createProduct(token, { 'zh-CN': `库存测试 ${tag}` }, tag, [{ sku, price: 2500, stock: 10 }]);
    const variant = product.variants[0].id;

    await signIn(page, owner(shop), 'zh-CN');
    await page.getByRole('navigation', { name: zh('admin-sections') }).getByRole('link', { name: zh('admin-stock') }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('admin-stock-title'));
    await page.getByLabel(zh('admin-stock-search'), { exact: true }).fill(sku);
    await page.getByRole('button', { name: zh('admin-filter'), exact: true }).click();
    await expect(page).toHaveURL(/\/admin\/stock\?q=/);
    await checkPage(page, 'admin-10-stock');
    await expectWithinBudget(page, 'admin', () => page.getByRole('link', { name: `库存测试 ${tag}` }).click());
    await expect(page).toHaveURL(new RegExp(`/admin/stock/${variant}$`));
    await expect(page.getByRole('heading', { level: 1 })).toContainText(`库存测试 ${tag}`);
    const onHand = page.locator('#on-hand');
    await expect(onHand).toHaveText('10');
    await checkPage(page, 'admin-11-stock-ledger');

    await page.getByLabel(zh('admin-stock-delta-label'), { exact: true }).fill('+50');
    await page.getByLabel(zh('admin-reason'), { exact: true }).selectOption({ label: zh('admin-reason-received') });
    await page.getByRole('button', { name: zh('admin-stock-record'), exact: true }).click();
    await expect(page.getByRole('heading', { level: 1 }), 'recording stock received').not.toHaveText(
      zh('error-unavailable-title'),
    );
    await expect(page).toHaveURL(/\?done=adjusted$/);
    await expect(notice(page)).toHaveText(zh('admin-stock-adjusted'));
    await expect(onHand).toHaveText('60');
    const newest = page.locator('#ledger tbody tr').first();
    await expect(newest.locator('td').nth(1)).toHaveText('+50');
    await expect(newest.locator('td').nth(2)).toHaveText('60');
    await expect(newest.locator('td').nth(3)).toContainText(zh('admin-reason-received'));
    await checkPage(page, 'admin-12-stock-received');

    await page.getByRole('link', { name: zh('admin-edit-product') }).click();
    await expect(page).toHaveURL(new RegExp(`/admin/products/${product.id}$`));
    await expect(variantGroup(page, 1)).toContainText(`${zh('admin-on-hand')} 60`);
    await checkPage(page, 'admin-13-product-on-hand');

    // The CSV import: two good rows, one without a title.
    const exported = await page.request.get('/admin/products/export.csv');
    expect(exported.status(), 'GET /admin/products/export.csv').toBe(200);
    const header = (await exported.text()).split(/\r?\n/)[0];
    const columns = csvColumns(header);
    for (const needed of ['handle', 'status', 'title.zh-CN', 'sku', 'prices', 'stock']) {
      expect(columns, `the export's header "${header}"`).toContain(needed);
    }
    const row = (values: Record<string, string>) => columns.map((c) => csvField(values[c] ?? '')).join(',');
    const good = [1, 2].map((n) => ({
      handle: `${tag}-csv-${n}`,
      title: `导入葡萄干 ${tag} 第${n}款`,
      sku: `C${n}-${tag}`.toUpperCase(),
    }));
    const bad = { handle: `${tag}-csv-bad`, sku: `CB-${tag}`.toUpperCase() };
    const base = { status: 'active', unit: 'box', weight_grams: '500', stock: '30', low_stock_threshold: '5' };
    const csv = [
      header.trim(),
      ...good.map((g) =>
        row({ ...base, handle: g.handle, 'title.zh-CN': g.title, 'title.en': `Imported raisins ${g.handle}`, sku: g.sku, prices: '3800 CNY' }),
      ),
      row({ ...base, handle: bad.handle, sku: bad.sku, prices: '3800 CNY' }),
    ].join('\n');

    await page.goto('/admin/products/import');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('admin-import-title'));
    await checkPage(page, 'admin-14-import');
    await page.getByLabel(zh('admin-import-file'), { exact: true }).setInputFiles({
      name: 'products.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv, 'utf8'),
    });
    await page.getByRole('button', { name: zh('admin-import-button'), exact: true }).click();
    await expect(page.getByRole('heading', { level: 2, name: zh('admin-import-report') })).toBeVisible();
    const summary = page.getByRole('status').filter({ hasText: zh('admin-import-created', { total: 2 }) });
    await expect(summary).toContainText(zh('admin-import-failed', { total: 1 }));
    const failed = page.locator('table.grid tbody tr', { hasText: bad.sku });
    await expect(failed).toHaveCount(1);
    await expect(failed).toContainText(zh('admin-import-outcome-failed'));
    const problem = (await failed.locator('td').nth(4).textContent())?.trim() ?? '';
    console.log(`import: the row without a title says "${problem}"`);
    expect(problem, 'the bad row names its problem in a sentence').toMatch(
      new RegExp(
        [tPattern('zh-CN', 'refusal-field-missing'), tPattern('zh-CN', 'refusal-field')]
          .map((p) => `^${p.source}$`)
          .join('|'),
      ),
    );
    expect(problem).toContain(zh('field-name-title'));
    for (const g of good) {
      await expect(page.locator('table.grid tbody tr', { hasText: g.sku })).toContainText(zh('admin-import-outcome-created'));
    }
    await checkPage(page, 'admin-15-import-report');

    await page.goto('/admin/products');
    await page.getByLabel(zh('admin-product-search'), { exact: true }).fill(tag);
    await page.getByRole('button', { name: zh('admin-filter'), exact: true }).click();
    for (const g of good) await expect(page.getByRole('link', { name: new RegExp(escapeRegExp(g.title)) })).toBeVisible();
    await expect(page.locator('main ul.rows li')).toHaveCount(3); // the two imported and the stock test's own
    await checkPage(page, 'admin-16-products-search');
  });

  test('an order shipped in two parcels, delivered, partly refunded; another cancelled puts its stock back', async ({
    page,
    newPage,
    request,
    checkPage,
    expectWithinBudget,
  }, testInfo) => {
    const shop = 'turpan-raisins';
    const api = new Api(request);
    const token = await api.login(owner(shop));
    const tag = unique(testInfo, 'order');
    const skus = [`OA-${tag}`.toUpperCase(), `OB-${tag}`.toUpperCase()];
    const product = await api.createProduct(token, { 'zh-CN': `订单测试 ${tag}` }, tag, [
      { sku: skus[0], price: 4500, stock: 20, title: '500克' },
      { sku: skus[1], price: 8800, stock: 20, title: '1公斤' },
    ]);
    const [a, b] = product.variants.map((v) => v.id);
    const buyer = `buyer-${tag}@example.cn`;
    const order = await api.paidOrder(shop, buyer, [
      { variant: a, quantity: 2 },
      { variant: b, quantity: 1 },
    ]);
    const trackingA = `SF${Date.now()}A`;
    const trackingB = `SF${Date.now()}B`;

    await signIn(page, owner(shop), 'zh-CN');
    await page.getByRole('navigation', { name: zh('admin-sections') }).getByRole('link', { name: zh('admin-orders') }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('admin-orders-title'));
    await page.getByLabel(zh('admin-order-search'), { exact: true }).fill(order.name);
    await page.getByRole('button', { name: zh('admin-filter'), exact: true }).click();
    await expect(page).toHaveURL(/\/admin\/orders\?.*q=/);
    await checkPage(page, 'admin-20-orders-search');
    const link = page.getByRole('link', { name: new RegExp(`^${escapeRegExp(order.name)}\\b`) }).filter({ visible: true });
    await expect(link).toHaveCount(1);
    await expectWithinBudget(page, 'admin', () => link.click());
    await expect(page).toHaveURL(new RegExp(`/admin/orders/${order.id}$`));
    const heading = page.getByRole('heading', { level: 1 });
    await expect(heading).toContainText(order.name);
    await expect(heading).toContainText(zh('status-paid'));
    await expect(total(page, zh('admin-paid'))).toHaveText(yuan(order.total));
    await checkPage(page, 'admin-21-order-paid');

    // The first parcel: line A only.
    const ship = formWith(page, zh('admin-tracking'));
    await ship.getByLabel(new RegExp(`\\(${escapeRegExp(skus[0])}\\)`)).fill('2');
    await ship.getByLabel(new RegExp(`\\(${escapeRegExp(skus[1])}\\)`)).fill('0');
    await ship.getByLabel(zh('admin-carrier'), { exact: true }).fill('顺丰速运');
    await ship.getByLabel(zh('admin-tracking'), { exact: true }).fill(trackingA);
    await ship.getByRole('button', { name: zh('admin-ship'), exact: true }).click();
    await expect(page).toHaveURL(/\?done=shipped$/);
    await expect(notice(page)).toHaveText(zh('admin-done-shipped'));
    await expect(heading).toContainText(zh('status-partially_fulfilled'));
    const shipments = page.locator('section', { has: page.getByRole('heading', { name: zh('admin-shipments') }) });
    await expect(shipments).toContainText(trackingA);
    await checkPage(page, 'admin-22-order-part-shipped');

    // The rest: only line B is left to ship.
    await expect(ship.getByLabel(new RegExp(`\\(${escapeRegExp(skus[0])}\\)`))).toHaveCount(0);
    await expect(ship.getByLabel(new RegExp(`\\(${escapeRegExp(skus[1])}\\)`))).toHaveValue('1');
    await ship.getByLabel(zh('admin-carrier'), { exact: true }).fill('顺丰速运');
    await ship.getByLabel(zh('admin-tracking'), { exact: true }).fill(trackingB);
    await ship.getByRole('button', { name: zh('admin-ship'), exact: true }).click();
    await expect(notice(page)).toHaveText(zh('admin-done-shipped'));
    await expect(heading).toContainText(zh('status-fulfilled'));
    await expect(shipments).toContainText(trackingB);

    await page.getByRole('button', { name: zh('admin-deliver'), exact: true }).click();
    await expect(page).toHaveURL(/\?done=delivered$/);
    await expect(notice(page)).toHaveText(zh('admin-done-delivered'));
    await expect(heading).toContainText(zh('status-delivered'));
    await checkPage(page, 'admin-23-order-delivered');

    // The buyer's order page names both parcels.
    const buyerPage = await newPage();
    const statusUrl = `/s/${shop}/zh-CN/orders/${order.id}?token=${encodeURIComponent(order.token)}`;
    const opened = await buyerPage.goto(statusUrl);
    expect(opened?.status(), 'the buyer opens the order').toBe(200);
    await expect(buyerPage.locator('p.status strong')).toHaveText(zh('status-delivered'));
    const parcels = buyerPage.locator('p.shipment');
    await expect(parcels).toHaveCount(2);
    await expect(buyerPage.getByRole('region', { name: zh('order-delivery') })).toContainText(trackingA);
    await expect(buyerPage.getByRole('region', { name: zh('order-delivery') })).toContainText(trackingB);
    await checkPage(buyerPage, 'admin-24-buyer-order-delivered');

    // A partial refund of ¥10.
    let refund = await openAction(page, zh('admin-refund'));
    await refund.getByLabel(new RegExp(`^${escapeRegExp(zh('admin-amount'))}`)).fill('10');
    await refund.getByLabel(zh('admin-reason'), { exact: true }).fill('一袋压坏了');
    await refund.getByRole('button', { name: zh('admin-refund'), exact: true }).click();
    await expect(page).toHaveURL(/\?done=refunded$/);
    await expect(notice(page)).toHaveText(zh('admin-done-refunded'));
    await expect(total(page, zh('admin-paid'))).toHaveText(yuan(order.total));
    await expect(total(page, zh('admin-refunded'))).toHaveText(yuan(1000));
    await checkPage(page, 'admin-25-order-refunded');

    // More than is left: refused, nothing changes.
    const left = order.total - 1000;
    refund = await openAction(page, zh('admin-refund'));
    await refund.getByLabel(new RegExp(`^${escapeRegExp(zh('admin-amount'))}`)).fill(((left + 100) / 100).toFixed(2));
    await refund.getByRole('button', { name: zh('admin-refund'), exact: true }).click();
    await expect(alerts(page)).toHaveText(zh('admin-refund-too-much', { total: yuan(left) }));
    await expect(total(page, zh('admin-paid'))).toHaveText(yuan(order.total));
    await expect(total(page, zh('admin-refunded'))).toHaveText(yuan(1000));
    await checkPage(page, 'admin-26-order-refund-too-much');
    const after = await api.get(token, `/v1/orders/${order.id}`);
    expect(after.refunded.amount, 'what the API says was refunded').toBe(1000);

    // Another paid order, cancelled: its stock comes back.
    const before = await stockRow(page, skus[1]);
    await checkPage(page, 'admin-27-stock-before-order');
    const second = await api.paidOrder(shop, buyer, [{ variant: b, quantity: 3 }]);
    await expect
      .poll(async () => (await stockRow(page, skus[1])).available, { message: 'the paid order holds 3 units' })
      .toBe(before.available - 3);
    await page.goto(`/admin/orders/${second.id}`);
    await expect(heading).toContainText(zh('status-paid'));
    const cancel = await openAction(page, zh('admin-cancel'));
    await cancel.getByLabel(zh('admin-reason'), { exact: true }).fill('买家要求取消');
    await cancel.getByRole('button', { name: zh('admin-cancel'), exact: true }).click();
    await expect(page).toHaveURL(/\?done=cancelled$/);
    await expect(notice(page)).toHaveText(zh('admin-done-cancelled'));
    await expect(heading).toContainText(zh('status-cancelled'));
    await expect(page.getByText(`${zh('admin-cancel-reason')}: 买家要求取消`)).toBeVisible();
    await checkPage(page, 'admin-28-order-cancelled');
    await expect
      .poll(async () => (await stockRow(page, skus[1])).available, { message: 'the cancelled order\'s units are back' })
      .toBe(before.available);
  });

  test('the owner invites a new staff member, who may work on orders but not open the owner\'s pages', async ({
    page,
    newPage,
    checkPage,
    mail,
  }, testInfo) => {
    const shop = 'turpan-raisins';
    const email = `${unique(testInfo, 'staff')}@example.cn`;
    const newPassword = `Harvest-${Date.now()}-x`;

    await signIn(page, owner(shop), 'zh-CN');
    await page.goto('/admin/more');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('admin-more-title'));
    await checkPage(page, 'admin-29-more');
    await page.getByRole('link', { name: zh('admin-team-title'), exact: true }).click();
    await expect(page).toHaveURL(/\/admin\/staff$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('admin-team-title'));
    await checkPage(page, 'admin-30-staff');
    const invite = formWith(page, zh('admin-role'));
    await invite.getByLabel(zh('field-email-label'), { exact: true }).fill(email);
    await invite.getByLabel(zh('admin-role'), { exact: true }).selectOption({ label: zh('admin-role-staff') });
    await invite.getByRole('button', { name: zh('admin-invite-send'), exact: true }).click();
    await expect(page).toHaveURL(/\?done=invited$/);
    await expect(notice(page)).toHaveText(zh('admin-invited'));
    await expect(page.locator('main li.row', { hasText: email })).toContainText(zh('admin-withdraw'));
    await checkPage(page, 'admin-31-staff-invited');

    const [letter] = await mail(email);
    const body = `${letter.text ?? ''}\n${letter.html ?? ''}`;
    const found = /https?:\/\/[^\s"'<>]*\/invitations\/accept\?token=[^\s"'<>&]+/.exec(body);
    expect(found, `the invitation to ${email} ("${letter.subject}") links to /invitations/accept?token=…`).not.toBeNull();
    const link = new URL(found![0].replace(/&amp;/g, '&'));

    const staff = await newPage();
    const accept = await staff.goto(`${link.pathname}${link.search}`);
    expect(accept?.status(), 'the invitation link opens').toBe(200);
    await expect(staff.getByRole('heading', { level: 1 })).toHaveText(zh('link-invitation-title'));
    await checkPage(staff, 'admin-32-invitation-accept');
    await staff.getByLabel(zh('field-name'), { exact: true }).fill('阿依古丽');
    await staff.getByLabel(zh('field-new-password'), { exact: true }).fill(newPassword);
    await staff.getByRole('button', { name: zh('link-invitation-button'), exact: true }).click();
    // Accepting signs the new member in: a staff member lands on the admin's first page.
    await expect(staff).toHaveURL(/\/admin$/);
    await expect(staff.getByRole('heading', { level: 1 })).toHaveText(zh('admin-today-title'));

    const orders = await staff.goto('/admin/orders');
    expect(orders?.status(), 'staff open the orders').toBe(200);
    await expect(staff.getByRole('heading', { level: 1 })).toHaveText(zh('admin-orders-title'));
    await expect(staff.locator('main ul.rows.narrow li').first()).toBeVisible();
    await checkPage(staff, 'admin-33-staff-orders');
    await staff.goto('/admin/more');
    await expect(staff.getByRole('heading', { level: 1 })).toHaveText(zh('admin-more-title'));
    await expect(staff.getByRole('link', { name: zh('admin-settings-title') })).toHaveCount(0);
    await checkPage(staff, 'admin-34-staff-more');

    for (const owners of ['/admin/settings', '/admin/staff', '/admin/apps']) {
      const answer = await staff.goto(owners);
      expect(answer?.status(), `GET ${owners} as staff`).toBe(403);
      await expect(staff.getByRole('heading', { level: 1 })).toHaveText(zh('error-not-allowed-title'));
      await expect(staff.getByText(zh('error-not-allowed-body'))).toBeVisible();
    }
    await checkPage(staff, 'admin-35-staff-not-allowed');

    // The owner lets them go again (the shop's plan counts its staff).
    await page.goto('/admin/staff');
    const member = page.locator('main li.row', { hasText: email });
    await member.getByRole('button', { name: zh('admin-remove-member'), exact: true }).click();
    await expect(notice(page)).toHaveText(zh('admin-member-removed'));
    await expect(page.locator('main li.row', { hasText: email })).toHaveCount(0);
  });

  test('another shop\'s staff get a 404 for this shop\'s order and product', async ({ page, request, checkPage }) => {
    const api = new Api(request);
    const token = await api.login(owner('turpan-raisins'));
    const orders = await api.get(token, '/v1/orders?limit=1');
    const products = await api.get(token, '/v1/products?limit=1');
    const orderId: string | undefined = orders.items[0]?.id;
    const productId: string | undefined = products.items[0]?.id;
    expect(orderId, 'turpan-raisins has an order').toBeTruthy();
    expect(productId, 'turpan-raisins has a product').toBeTruthy();

    await signIn(page, staffOf('zhongning-goji'), 'zh-CN');
    await checkPage(page, 'admin-40-today-zhongning-staff');
    for (const [what, url] of [
      ['order', `/admin/orders/${orderId}`],
      ['product', `/admin/products/${productId}`],
    ] as const) {
      const answer = await page.goto(url);
      expect(answer?.status(), `zhongning-goji's staff open turpan-raisins's ${what}`).toBe(404);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('error-not-found-title'));
      await checkPage(page, `admin-41-other-shop-${what}`);
    }
  });

  test('photos the admin refuses: too many pixels, not an image, too large; each said plainly', async ({
    page,
    request,
    checkPage,
  }, testInfo) => {
    const shop = 'hotan-jujube';
    const api = new Api(request);
    const token = await api.login(owner(shop));
    const tag = unique(testInfo, 'photo');
    const product = await api.createProduct(token, { 'zh-CN': `图片测试 ${tag}` }, tag, [
      { sku: `P-${tag}`.toUpperCase(), price: 3000, stock: 5 },
    ]);

    await signIn(page, owner(shop), 'zh-CN');
    const edit = `/admin/products/${product.id}`;
    await page.goto(edit);
    await checkPage(page, 'admin-50-product-edit');
    const refusals = [
      {
        name: 'huge.png',
        mimeType: 'image/png',
        buffer: blackPng(8000, 7500),
        sentence: zh('refusal-image-too-big'),
        status: 422,
      },
      {
        name: 'photo.jpg',
        mimeType: 'image/jpeg',
        buffer: Buffer.from('这不是图片，只是一段文字。\n'.repeat(20), 'utf8'),
        sentence: zh('refusal-not-image'),
        status: 415,
      },
      {
        name: 'big.jpg',
        mimeType: 'image/jpeg',
        buffer: Buffer.concat([
          Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]),
          Buffer.alloc(20 * 1000 * 1000 - 12),
        ]),
        sentence: zh('admin-photo-too-large', { total: 15 }),
        status: 413,
      },
    ];
    for (const [index, file] of refusals.entries()) {
      await page.goto(edit);
      await expect(page.getByText(zh('admin-no-photos'))).toBeVisible();
      await page.getByLabel(zh('admin-photo-take'), { exact: true }).setInputFiles({
        name: file.name,
        mimeType: file.mimeType,
        buffer: file.buffer,
      });
      const answered = page.waitForResponse((r) => r.url().endsWith(`${edit}/photos`) && r.request().method() === 'POST');
      await page.getByRole('button', { name: zh('admin-photo-upload'), exact: true }).click();
      const answer = await answered;
      const shown = alerts(page);
      await expect(shown).toHaveCount(1);
      console.log(`photo refusal: ${file.name} (${file.buffer.length} bytes): ${answer.status()} "${await shown.textContent()}"`);
      await expect(shown, `the sentence for ${file.name}`).toHaveText(file.sentence);
      expect(answer.status(), `the status for ${file.name}`).toBe(file.status);
      await expect(page.getByText(zh('admin-no-photos'))).toBeVisible();
      await expect(page.locator('ul.photos img')).toHaveCount(0);
      await checkPage(page, `admin-5${index + 1}-photo-refused-${file.name}`);
    }
    const stored = await api.get(token, `/v1/products/${product.id}`);
    expect(stored.images, 'the product has no photo').toEqual([]);
  });

  test('in Uyghur the admin reads right to left', async ({ page, checkPage }) => {
    await signIn(page, owner('hotan-jujube'), 'ug', checkPage, 'admin-60-sign-in-ug');
    await expect(page.locator('html')).toHaveAttribute('lang', 'ug');
    await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
    await expect(page.getByRole('navigation', { name: t('ug', 'admin-sections') })).toBeVisible();
    await checkPage(page, 'admin-61-today-ug');
  });
});

test.describe('the shop admin on a desk', () => {
  test.use({ locale: 'zh-CN' });

  test('the orders list is a table', async ({ page, checkPage }, testInfo) => {
    test.skip(testInfo.project.name !== 'desktop', 'the wide layout is the desktop\'s');
    await signIn(page, owner('turpan-raisins'), 'zh-CN');
    await page.goto('/admin/orders');
    const table = page.locator('table.grid');
    await expect(table).toBeVisible();
    for (const column of ['admin-order', 'admin-placed', 'admin-buyer', 'admin-status', 'order-total']) {
      await expect(table.getByRole('columnheader', { name: zh(column), exact: true })).toBeVisible();
    }
    await expect(table.locator('tbody tr').first()).toBeVisible();
    await expect(page.locator('ul.rows.narrow')).toBeHidden();
    await checkPage(page, 'admin-70-orders-desk');
  });
});
