// What the browser checks share: the UI strings as the Fluent files give them (so a
// page in the wrong language fails), the demo accounts' password, unique names, and
// a real photo to upload.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page, TestInfo } from '@playwright/test';
import { expect } from './fixtures';

export type Lang = 'zh-CN' | 'ug' | 'en' | 'ru';

const localesDir = path.resolve(__dirname, '../../web/locales');
const catalogs = new Map<Lang, Map<string, { text: string; file: string }>>();

/** The Fluent messages of `lang`, main.ftl's, admin.ftl's, ops.ftl's and preorder.ftl's (each a single `key = value` line). */
function catalog(lang: Lang): Map<string, { text: string; file: string }> {
  let messages = catalogs.get(lang);
  if (!messages) {
    messages = new Map();
    for (const file of ['main.ftl', 'admin.ftl', 'ops.ftl', 'preorder.ftl']) {
      const source = fs.readFileSync(path.join(localesDir, lang, file), 'utf8');
      for (const line of source.split('\n')) {
        const match = /^([a-z][A-Za-z0-9_-]*)\s*=\s?(.*)$/.exec(line);
        if (match) messages.set(match[1], { text: match[2].trim(), file });
      }
    }
    catalogs.set(lang, messages);
  }
  return messages;
}

function message(lang: Lang, key: string): string {
  const found = catalog(lang).get(key);
  if (found === undefined) throw new Error(`web/locales/${lang}/{main,admin,ops,preorder}.ftl have no message "${key}"`);
  return found.text;
}

/** The string `key` in `lang` with its `{ $name }` placeables filled from `args`. */
export function t(lang: Lang, key: string, args: Record<string, string | number> = {}): string {
  return message(lang, key).replace(/\{\s*\$([A-Za-z0-9_-]+)\s*\}/g, (_, name: string) => {
    if (!(name in args)) throw new Error(`${lang} ${key} needs $${name}`);
    return String(args[name]);
  });
}

export const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The string `key` in `lang` as a pattern matching any value of its placeables (capture groups, in order). */
export function tPattern(lang: Lang, key: string, flags = ''): RegExp {
  const parts = message(lang, key).split(/\{\s*\$[A-Za-z0-9_-]+\s*\}/);
  return new RegExp(parts.map(escapeRegExp).join('(.+?)'), flags);
}

export const password = () => {
  const value = process.env.DEMO_PASSWORD;
  if (!value) throw new Error('DEMO_PASSWORD is not set (the demo accounts\' password)');
  return value;
};

/** A tag no other test (or run) uses: for names, emails and SKUs. */
export function unique(testInfo: TestInfo, what: string): string {
  const random = Math.random().toString(36).slice(2, 7);
  return `${what}-${Date.now()}-${random}-${testInfo.project.name}`;
}

/** A real JPEG drawn on a canvas in the page (a field of rows of raisins). */
export async function jpegFromCanvas(page: Page, width = 1600, height = 1200): Promise<Buffer> {
  const dataUrl = await page.evaluate(
    ([w, h]) => {
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const g = canvas.getContext('2d')!;
      const sky = g.createLinearGradient(0, 0, 0, h);
      sky.addColorStop(0, '#7fb4e0');
      sky.addColorStop(1, '#e8c98a');
      g.fillStyle = sky;
      g.fillRect(0, 0, w, h);
      for (let i = 0; i < 400; i += 1) {
        g.fillStyle = `hsl(${30 + (i % 40)}, 60%, ${25 + (i % 30)}%)`;
        g.beginPath();
        g.arc((i * 97) % w, h / 2 + ((i * 53) % (h / 2)), 12 + (i % 9), 0, Math.PI * 2);
        g.fill();
      }
      return canvas.toDataURL('image/jpeg', 0.9);
    },
    [width, height],
  );
  expect(dataUrl.startsWith('data:image/jpeg;base64,'), 'the canvas made a JPEG').toBe(true);
  return Buffer.from(dataUrl.slice('data:image/jpeg;base64,'.length), 'base64');
}
