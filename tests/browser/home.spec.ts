import { test, expect } from './fixtures';

test('home: a page with a heading, in a declared language, accessible', async ({ page, checkPage }) => {
  const response = await page.goto('/');
  expect(response, 'GET / gave no response').not.toBeNull();
  expect(response!.ok(), `GET / answered ${response!.status()}`).toBe(true);
  expect(response!.headers()['content-type'] ?? '', 'GET / is not an HTML page').toContain('text/html');

  await expect(page.locator('h1').first(), 'the page has no visible h1').toBeVisible();
  await expect(page.locator('html'), '<html> has no lang').toHaveAttribute('lang', /^[A-Za-z]{2,3}(-[A-Za-z0-9]+)*$/);

  await checkPage(page, 'home');
});
