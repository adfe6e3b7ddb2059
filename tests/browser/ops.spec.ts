// Opening a shop and running the platform, in a real browser: a cooperative applies
// at /apply, an operator decides in the console (/ops), the new owner sets a
// password from the invitation email and works through the first-run checklist
// until the storefront shows the first product; a rejection's reason reaches the
// applicant; suspending and reinstating a shop shows at once on its storefront and in
// its admin, and the audit trail names who did what and why; a parked event is
// retried from the console; and nobody but an operator gets in. Texts come from the
// Fluent files (./support), so a page in the wrong language fails here.
//
// A parked event is provoked for real: a trigger added to the order service's
// database (CARAVAN_DATABASE_PREFIX names this run's databases) makes its handler of
// the tenant service's events fail until the trigger is dropped.
import { execFileSync } from 'node:child_process';
import type { APIRequestContext, Page, TestInfo } from '@playwright/test';
import { test, expect, type MailMessage } from './fixtures';
import { type Lang, escapeRegExp, jpegFromCanvas, password, t, tPattern } from './support';

const zh = (key: string, args: Record<string, string | number> = {}) => t('zh-CN', key, args);

const operatorEmail = process.env.CARAVAN_OPERATOR_EMAIL || 'operator@caravan.example.cn';

/** A lowercase address no other test or run uses (3 to 40 of a-z, 0-9 and -). */
function slugFor(testInfo: TestInfo, what: string): string {
  return `${what}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}-${testInfo.project.name}`;
}

/** The public API as an operator (or anyone with a token). */
class Api {
  constructor(private readonly request: APIRequestContext) {}

  async login(email: string, secret = password()): Promise<string> {
    const answer = await this.request.post('/v1/auth/login', { data: { email, password: secret } });
    expect(answer.status(), `${email} logs in to the API: ${await answer.text()}`).toBe(200);
    return (await answer.json()).access_token as string;
  }

  async call(token: string | null, method: string, url: string, data?: unknown): Promise<any> {
    const answer = await this.request.fetch(url, {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      data,
    });
    expect(answer.ok(), `${method} ${url}: ${answer.status()} ${await answer.text()}`).toBe(true);
    return answer.status() === 204 ? undefined : answer.json();
  }
}

/** The invitation token in an invitation email. */
function invitationToken(message: MailMessage): string {
  const match = /\/invitations\/accept\?token=([A-Za-z0-9_-]{43})/.exec(message.text ?? '');
  expect(match, `the invitation email carries its link: ${message.text}`).not.toBeNull();
  return match![1];
}

/** Signs in to the console as the demo operator, in zh-CN. */
async function operatorSignIn(page: Page): Promise<void> {
  await page.goto('/ops/sign-in?lang=zh-CN');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('ops-sign-in-title'));
  await page.getByLabel(zh('field-email-label'), { exact: true }).fill(operatorEmail);
  await page.getByLabel(zh('field-password'), { exact: true }).fill(password());
  await page.getByRole('button', { name: zh('admin-sign-in-button'), exact: true }).click();
  await expect(page, 'the operator lands on the overview').toHaveURL(/\/ops\/?$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('ops-overview'));
}

/** A console or admin notice of what was just done. */
const notice = (page: Page) => page.locator('main .notice.good[role="status"]');

/** Accepts an invitation at its page: a name and a password; lands in the admin. */
async function acceptInvitation(page: Page, token: string, name: string, secret: string): Promise<void> {
  await page.goto(`/invitations/accept?token=${token}&lang=zh-CN`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('link-invitation-title'));
  await page.getByLabel(zh('field-name'), { exact: true }).fill(name);
  await page.getByLabel(zh('field-new-password'), { exact: true }).fill(secret);
  await page.getByRole('button', { name: zh('link-invitation-button'), exact: true }).click();
}

/** psql against one of this run's databases, as the local PostgreSQL's owner. */
function psql(service: string, sql: string): string {
  const prefix = process.env.CARAVAN_DATABASE_PREFIX;
  if (!prefix) throw new Error('CARAVAN_DATABASE_PREFIX is not set (deploy/scripts/check-browser.sh sets it)');
  return execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', `${prefix}_${service}`, '-v', 'ON_ERROR_STOP=1', '-tAc', sql], {
    encoding: 'utf8',
  });
}

test.describe('opening a shop and running the platform', () => {
  test.use({ locale: 'zh-CN' });

  test('a cooperative applies, an operator approves, the owner readies the shop and it sells', async ({
    page,
    request,
    newPage,
    checkPage,
    expectWithinBudget,
    mail,
  }, testInfo) => {
    test.skip(testInfo.project.name !== 'phone', 'a cooperative applies from a phone');
    test.setTimeout(180_000);
    const slug = slugFor(testInfo, 'goji');
    const name = `枸杞合作社 ${slug}`;
    const email = `${slug}@apply.example.cn`;

    // The front page leads to the form.
    await page.goto('/?lang=zh-CN');
    await expectWithinBudget(page, 'apply', () => page.getByRole('link', { name: zh('home-open-shop') }).click());
    await expect(page).toHaveURL(/\/apply\?lang=zh-CN$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('apply-title'));
    await checkPage(page, 'ops-01-apply');

    // A taken address is said so as it is typed, with free ones to pick.
    const slugField = page.getByLabel(zh('apply-slug'), { exact: true });
    await slugField.fill('zhongning-goji');
    const status = page.locator('#slug-check');
    await expect(status).toContainText(zh('apply-slug-taken-named', { slug: 'zhongning-goji' }));
    const choices = status.locator('.slug-choices button');
    await expect(choices.first()).toBeVisible();
    const picked = (await choices.first().textContent())!.trim();
    await checkPage(page, 'ops-02-apply-slug-taken');
    await choices.first().click();
    await expect(page.getByLabel(zh('apply-slug'), { exact: true })).toHaveValue(picked);
    await expect(page.locator('#slug-check')).toContainText(zh('apply-slug-free', { slug: picked }));
    // A malformed one is explained; the wished one is free.
    await page.getByLabel(zh('apply-slug'), { exact: true }).fill('Goji!');
    await expect(page.locator('#slug-check')).toContainText(zh('apply-slug-malformed'));
    await page.getByLabel(zh('apply-slug'), { exact: true }).fill(slug);
    await expect(page.locator('#slug-check')).toContainText(zh('apply-slug-free', { slug }));

    await page.getByLabel(zh('apply-name-in', { language: '中文' }), { exact: true }).fill(name);
    await page.getByLabel(zh('apply-name-in', { language: 'ئۇيغۇرچە' }), { exact: true }).fill(`لەڭزە كوپىراتىپى ${slug}`);
    await page.getByLabel(zh('apply-region'), { exact: true }).fill('宁夏');
    await page.getByLabel(zh('apply-description'), { exact: true }).fill('中宁枸杞干果与枸杞原浆，120 户成员。');
    await page.getByLabel(zh('apply-contact-name'), { exact: true }).fill('马军');
    await page.getByLabel(zh('field-email-label'), { exact: true }).fill(email);
    await page.getByLabel(zh('apply-phone'), { exact: true }).fill('+86 955 555 0100');
    await page.getByRole('radio', { name: new RegExp(escapeRegExp(zh('plan-standard'))) }).check();
    await page.getByRole('button', { name: zh('apply-send'), exact: true }).click();
    await expect(page).toHaveURL(/\/apply\/received\?/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('apply-received-title'));
    await expect(page.locator('main')).toContainText(slug);
    await checkPage(page, 'ops-03-apply-received');
    const [confirmation] = await mail(email);
    expect(confirmation.text ?? '', 'the confirmation names the wished address').toContain(slug);

    // The operator approves it on the plan asked for.
    const ops = await newPage();
    await operatorSignIn(ops);
    await checkPage(ops, 'ops-10-overview');
    await ops.getByRole('link', { name: zh('ops-applications') }).click();
    await checkPage(ops, 'ops-11-applications');
    await ops.getByRole('link', { name: new RegExp(escapeRegExp(name)) }).click();
    await expect(ops.getByRole('heading', { level: 1 })).toHaveText(name);
    await expect(ops.getByLabel(zh('apply-plan'), { exact: true })).toHaveValue('standard');
    await checkPage(ops, 'ops-12-application');
    await ops.getByRole('button', { name: zh('ops-approve-button'), exact: true }).click();
    await expect(notice(ops)).toHaveText(zh('ops-approved-notice'));

    // The invitation sets the owner's password and opens the checklist.
    const invitation = (await mail(email, { containing: /invitations\/accept/ })).find((m) =>
      /invitations\/accept/.test(m.text ?? ''),
    );
    expect(invitation, 'the owner is emailed an invitation').toBeTruthy();
    const ownerPassword = `Goji-harvest-${slug}`;
    await acceptInvitation(page, invitationToken(invitation!), '马军', ownerPassword);
    await expect(page).toHaveURL(/\/admin\/welcome$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('admin-welcome-title'));
    await expect(page.locator('.progress')).toHaveText(zh('admin-welcome-progress', { done: 0, total: 5 }));
    await checkPage(page, 'ops-20-welcome');

    // Profile, logo, payment details, a shipping zone: each ticked off as done.
    await page.getByRole('link', { name: zh('admin-welcome-profile-go') }).click();
    await page.locator('#description-zh-CN').fill('宁夏中宁的枸杞，当季采摘，自然晾干。');
    await page.locator('#profile button[type=submit]').click();
    const photo = await jpegFromCanvas(page);
    await page.locator('#logo').setInputFiles({ name: 'logo.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.locator('form[action="/admin/settings/image/logo"] button[type=submit]').click();
    await expect(page.locator('#theme img')).toBeVisible();
    await page.locator('#bank_details').fill('宁夏银行中宁支行 6228 4800 1234 5678');
    await page.locator('#orders button[type=submit]').click();
    await page.goto('/admin/shipping');
    await page.locator('#name').fill('全国');
    await page.locator('#countries').fill('CN');
    await page.locator('#band0-name').fill('标准快递');
    await page.locator('#band0-min').fill('0');
    await page.locator('#band0-max').fill('20000');
    await page.locator('#band0-price').fill('12.00');
    await page.locator('form[action="/admin/shipping"] button.primary').click();
    await page.goto('/admin/welcome');
    await expect(page.locator('.progress')).toHaveText(zh('admin-welcome-progress', { done: 4, total: 5 }));

    // The first product with a photo, put on sale through the API as the owner.
    const api = new Api(request);
    const token = await api.login(email, ownerPassword);
    const uploaded = await request.post('/v1/media', {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' },
      data: photo,
    });
    expect(uploaded.status(), `the photo uploads: ${await uploaded.text()}`).toBe(201);
    const media = (await uploaded.json()).id as string;
    const title = `中宁头茬枸杞 ${slug}`;
    await api.call(token, 'POST', '/v1/products', {
      handle: `goji-${Date.now()}`,
      title: { 'zh-CN': title },
      status: 'active',
      images: [{ media_id: media }],
      variants: [{ sku: `GOJI-${Date.now()}`, unit: 'box', weight_grams: 500, prices: [{ amount: 6800, currency: 'CNY' }], stock: 20, track_stock: true }],
    });
    await page.goto('/admin/welcome');
    await expect(page.locator('.progress')).toHaveText(zh('admin-welcome-progress', { done: 5, total: 5 }));
    await expect(page.getByRole('heading', { level: 2, name: zh('admin-welcome-ready') })).toBeVisible();
    const share = page.locator('.share-link a');
    await expect(share).toHaveText(new RegExp(`/s/${escapeRegExp(slug)}/$`));
    await checkPage(page, 'ops-21-welcome-done');

    // The storefront shows the first product.
    await page.goto(`/s/${slug}/zh-CN/`);
    await expect(page.locator('main')).toContainText(title);
    await checkPage(page, 'ops-22-storefront');
  });

  test('a rejection reaches the applicant with its reason', async ({ page, request, checkPage, mail }, testInfo) => {
    test.skip(testInfo.project.name !== 'desktop', 'operators decide at a desk');
    const slug = slugFor(testInfo, 'apricot');
    const email = `${slug}@apply.example.cn`;
    const name = `杏干合作社 ${slug}`;
    await new Api(request).call(null, 'POST', '/v1/tenants/applications', {
      shop_name: name, slug, region: '新疆', contact_name: '阿孜古丽', email,
      phone: '+86 998 555 0100', description: '喀什杏干。', locale: 'zh-CN',
    });
    const reason = `营业执照照片无法辨认，请附清晰照片后重新申请（${slug}）。`;

    await operatorSignIn(page);
    await page.goto('/ops/applications?status=pending');
    await page.getByRole('link', { name: new RegExp(escapeRegExp(name)) }).click();
    await page.getByLabel(zh('ops-reject-reason'), { exact: true }).fill(reason);
    await page.getByRole('button', { name: zh('ops-reject-button'), exact: true }).click();
    await expect(notice(page)).toHaveText(zh('ops-rejected-notice'));
    await expect(page.locator('main')).toContainText(reason);
    await checkPage(page, 'ops-30-rejected');
    const messages = await mail(email, { containing: reason });
    expect(
      messages.some((m) => (m.text ?? '').includes(reason)),
      `an email to ${email} carries the reason: ${messages.map((m) => m.text).join('\n---\n')}`,
    ).toBe(true);
  });

  test('suspending a shop closes its storefront and admin at once; reinstating opens both; the audit says who and why', async ({
    page,
    request,
    newPage,
    checkPage,
    mail,
  }, testInfo) => {
    test.skip(testInfo.project.name !== 'desktop', 'operators act at a desk');
    test.setTimeout(120_000);
    const slug = slugFor(testInfo, 'melon');
    const ownerEmail = `${slug}@owner.example.cn`;

    // The operator opens a shop directly; its owner accepts the invitation.
    await operatorSignIn(page);
    await page.goto('/ops/shops/new');
    await checkPage(page, 'ops-40-new-shop');
    await page.getByLabel(zh('field-name-shop-name'), { exact: true }).fill(`哈密瓜合作社 ${slug}`);
    await page.getByLabel(zh('field-name-slug'), { exact: true }).fill(slug);
    await page.getByLabel(zh('field-name-region'), { exact: true }).fill('新疆');
    await page.getByLabel(zh('ops-owner-email'), { exact: true }).fill(ownerEmail);
    await page.getByRole('button', { name: zh('ops-new-shop-button'), exact: true }).click();
    await expect(notice(page)).toHaveText(zh('ops-shop-created'));
    const shopPage = page.url().replace(/\?.*$/, '');
    const [invitation] = await mail(ownerEmail);
    const owner = await newPage();
    await acceptInvitation(owner, invitationToken(invitation), '阿依古丽', `Hami-melon-${slug}`);
    await expect(owner).toHaveURL(/\/admin\/welcome$/);
    await expect((await request.get(`/s/${slug}/zh-CN/`)).status(), 'the new shop is open').toBe(200);

    const act = async (action: 'suspend' | 'reinstate', reason: string) => {
      await page.goto(shopPage);
      const form = page.locator('details.act', { has: page.locator('summary', { hasText: zh(`ops-action-${action}`) }) });
      await form.locator('summary').click();
      await form.getByLabel(zh('ops-action-reason'), { exact: true }).fill(reason);
      await form.getByRole('button', { name: zh('ops-continue'), exact: true }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh(`ops-confirm-${action}`));
      await expect(page.locator('main')).toContainText(reason);
      await checkPage(page, `ops-41-confirm-${action}`);
      await page.getByRole('button', { name: zh(`ops-confirm-${action}-button`), exact: true }).click();
      await expect(notice(page)).toHaveText(zh(action === 'suspend' ? 'ops-shop-suspended' : 'ops-shop-reinstated'));
      return Date.now();
    };
    const storefrontStatus = async () => (await request.get(`/s/${slug}/zh-CN/`)).status();

    const suspendedAt = await act('suspend', `冒用地理标志，待核查（${slug}）`);
    await expect.poll(storefrontStatus, { timeout: 1_000, intervals: [50, 100] }).toBe(404);
    expect(Date.now() - suspendedAt, 'the storefront closed within a second').toBeLessThan(1_500);
    await owner.goto(`/s/${slug}/zh-CN/`);
    await expect(owner.getByRole('heading', { level: 1 })).toHaveText(zh('error-shop-closed-title'));
    const admin = await owner.goto('/admin');
    expect(admin?.status(), "the suspended shop's admin").toBe(403);
    await expect(owner.getByRole('heading', { level: 1 })).toHaveText(zh('error-shop-suspended-title'));
    await checkPage(owner, 'ops-42-admin-suspended');

    await act('reinstate', `核查完毕，标注已改正（${slug}）`);
    await expect.poll(storefrontStatus, { timeout: 1_000, intervals: [50, 100] }).toBe(200);
    await owner.goto('/admin');
    await expect(owner.getByRole('heading', { level: 1 })).toHaveText(zh('admin-today-title'));

    // The audit trail: the opening, the suspension and the reinstatement, by whom and why.
    await page.goto(shopPage);
    const audit = page.locator('ol.audit li');
    await expect(audit).toHaveCount(3);
    for (const [action, why] of [
      ['create', null],
      ['suspend', `冒用地理标志，待核查（${slug}）`],
      ['reinstate', `核查完毕，标注已改正（${slug}）`],
    ] as const) {
      const entry = audit.filter({ has: page.locator('strong', { hasText: new RegExp(`^${escapeRegExp(zh(`ops-audit-${action}`))}$`) }) });
      await expect(entry, `the audit lists ${action}`).toHaveCount(1);
      await expect(entry).toContainText(zh('ops-audit-who'));
      await expect(entry).toContainText('operator:');
      if (why) await expect(entry).toContainText(why);
    }
    await checkPage(page, 'ops-43-shop-audit');
  });

  test('an event a service parked is retried from the console and the list empties', async ({
    page,
    request,
    checkPage,
  }, testInfo) => {
    test.skip(testInfo.project.name !== 'desktop', 'operators look after the services at a desk');
    test.setTimeout(90_000);
    const api = new Api(request);
    const token = await api.login(operatorEmail);
    const slug = slugFor(testInfo, 'parked');
    const shop = await api.call(token, 'POST', '/v1/tenants', {
      name: `停放测试 ${slug}`, slug, region: '甘肃', owner_email: `${slug}@owner.example.cn`,
    });
    // The order service hears of the shop before its handler is made to fail.
    await expect
      .poll(() => psql('order', `SELECT count(*) FROM tenant_status WHERE tenant_id = '${shop.id}'`).trim(), { timeout: 10_000 })
      .toBe('1');
    psql(
      'order',
      `CREATE OR REPLACE FUNCTION browser_check_refuses() RETURNS trigger LANGUAGE plpgsql AS $$ ` +
        `BEGIN RAISE EXCEPTION 'refused by the browser check'; END $$; ` +
        `CREATE TRIGGER browser_check_refuses BEFORE UPDATE ON tenant_status FOR EACH ROW EXECUTE FUNCTION browser_check_refuses();`,
    );
    try {
      await api.call(token, 'PATCH', `/v1/tenants/${shop.id}`, { contact_email: `shop@${slug}.example.cn` });
      await expect
        .poll(
          async () => {
            const parked = await api.call(token, 'GET', '/v1/operations/order/parked-events');
            return parked.items.some((e: any) => e.event_type === 'tenant.updated' && /browser check/.test(e.error));
          },
          { timeout: 20_000, message: 'the order service parks the event its handler keeps failing on' },
        )
        .toBe(true);
    } finally {
      psql('order', 'DROP TRIGGER IF EXISTS browser_check_refuses ON tenant_status; DROP FUNCTION IF EXISTS browser_check_refuses();');
    }

    await operatorSignIn(page);
    const parkedCell = page.locator('table.grid tr', { hasText: 'order' }).locator('td.num a');
    await expect(parkedCell, 'the overview counts the order service\'s parked events').toBeVisible();
    await page.goto('/ops/events');
    const section = page.locator('section#order');
    await expect(section.locator('ul.parked li', { hasText: 'tenant.updated' }).first()).toContainText('refused by the browser check');
    await checkPage(page, 'ops-50-parked');
    await section.getByRole('button', { name: zh('ops-retry-all'), exact: true }).click();
    await expect(notice(page)).toHaveText(zh('ops-events-retried'));
    await expect(page.locator('section#order')).toContainText(zh('ops-no-parked'));
    const left = await api.call(token, 'GET', '/v1/operations/order/parked-events');
    expect(left.items, 'nothing is parked in the order service any more').toEqual([]);
  });

  test("a shop's staff get 403 on every console page, and a cross-origin operator action is refused", async ({
    page,
    request,
    newPage,
    checkPage,
    expectWithinBudget,
  }, testInfo) => {
    test.skip(testInfo.project.name !== 'desktop', 'the console is a desk tool');
    const staff = 'staff@zhongning-goji.example.cn';
    await page.goto('/admin/sign-in?lang=zh-CN');
    await page.getByLabel(zh('field-email-label'), { exact: true }).fill(staff);
    await page.getByLabel(zh('field-password'), { exact: true }).fill(password());
    await page.getByRole('button', { name: zh('admin-sign-in-button'), exact: true }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('admin-today-title'));
    for (const path of ['/ops', '/ops/applications', '/ops/shops', '/ops/events', '/ops/platform']) {
      const answer = await page.goto(path);
      expect(answer?.status(), `a shop's staff opening ${path}`).toBe(403);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(zh('error-operators-only-title'));
    }
    await checkPage(page, 'ops-60-staff-403');
    // Their own password at the console's sign-in does not seat them either.
    const other = await newPage();
    await other.goto('/ops/sign-in?lang=zh-CN');
    await other.getByLabel(zh('field-email-label'), { exact: true }).fill(staff);
    await other.getByLabel(zh('field-password'), { exact: true }).fill(password());
    await other.getByRole('button', { name: zh('admin-sign-in-button'), exact: true }).click();
    await expect(other.getByRole('alert')).toHaveText(zh('ops-not-operator'));
    await other.goto('/ops');
    await expect(other, 'the console still asks to sign in').toHaveURL(/\/ops\/sign-in\?/);

    // An operator's session: a form posted from another site changes nothing.
    const operator = await newPage();
    await operatorSignIn(operator);
    await expectWithinBudget(operator, 'console', () => operator.goto('/ops/platform'));
    await checkPage(operator, 'ops-61-platform');
    const csrf = await operator.locator('form[action="/ops/keys/rotate"] input[name=csrf]').inputValue();
    const keysBefore = (await (await request.get('/.well-known/jwks.json')).json()).keys.length;
    const forged = await operator.request.post('/ops/keys/rotate', {
      form: { csrf },
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      maxRedirects: 0,
    });
    expect(forged.status(), 'a cross-origin POST to an operator action').toBe(403);
    const keysAfter = (await (await request.get('/.well-known/jwks.json')).json()).keys.length;
    expect(keysAfter, 'no key was rotated').toBe(keysBefore);
  });

  test('the application form in Uyghur reads right to left and says a taken address', async ({ page, checkPage }, testInfo) => {
    test.skip(testInfo.project.name !== 'phone', 'applicants come on phones');
    const lang: Lang = 'ug';
    await page.goto('/apply?lang=ug');
    await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(t(lang, 'apply-title'));
    await page.getByLabel(t(lang, 'apply-slug'), { exact: true }).fill('hotan-jujube');
    await expect(page.locator('#slug-check')).toContainText(tPattern(lang, 'apply-slug-taken-named'));
    await checkPage(page, 'ops-70-apply-ug');
    // The address field reads left to right inside the right-to-left page.
    await expect(page.locator('.slug-input')).toHaveAttribute('dir', 'ltr');
  });
});
