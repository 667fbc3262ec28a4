// A real browser on /docs (Swagger UI): puppeteer-core drives Debian's
// chromium. Run by tests/docs_browser_test.go with:
//   REEHUB_DOCS_URL      the server (a proxy validating every answer against openapi.yaml)
//   REEHUB_ADMIN_PASSWORD, REEHUB_TOKEN   Basic and Bearer credentials
//   REEHUB_EXPECTED      a JSON file: [{tag, operations: [operationId...]}] in the spec's order
//   REEHUB_PROJECT_ZIP   a project zip for the multipart upload
//   REEHUB_SCREENSHOT    where to save the screenshot
//   REEHUB_CHROMIUM, REEHUB_NODE_MODULES
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const require = createRequire(process.env.REEHUB_NODE_MODULES + '/');
const puppeteer = require('puppeteer-core');

const base = process.env.REEHUB_DOCS_URL;
const expected = JSON.parse(readFileSync(process.env.REEHUB_EXPECTED, 'utf8'));
const log = (...a) => console.log('docs:', ...a);

const browser = await puppeteer.launch({
  executablePath: process.env.REEHUB_CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  page.setDefaultTimeout(300_000);
  page.setDefaultNavigationTimeout(300_000);
  const challenges = []; // WWW-Authenticate of every 401 the page got
  const sent = []; // Authorization of every API request
  page.on('response', (r) => {
    if (r.status() === 401) challenges.push(r.headers()['www-authenticate'] || '');
  });
  page.on('request', (r) => {
    if (r.url().includes('/api/')) sent.push({ url: r.url(), authorization: r.headers()['authorization'] || '' });
  });
  page.on('dialog', async (d) => {
    await d.dismiss();
    throw new Error('a dialog opened: ' + d.message());
  });

  await page.goto(base + '/docs/', { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('.opblock-tag-section');

  // Every tag and operation, in the spec's order.
  const shown = await page.$$eval('.opblock-tag-section', (sections) =>
    sections.map((s) => ({
      tag: s.querySelector('.opblock-tag').getAttribute('data-tag'),
      operations: [...s.querySelectorAll('.opblock-summary-operation-id')].map((e) => e.textContent.trim()),
    })),
  );
  assert.deepEqual(shown, expected, 'every tag and operation is listed, in the order of openapi.yaml');
  log(`${shown.length} tags, ${shown.reduce((n, t) => n + t.operations.length, 0)} operations, in the spec's order`);

  // tryOut expands the operation, presses Try it out, runs prepare, executes,
  // and returns the status the UI shows.
  async function tryOut(operationId, prepare) {
    const block = await page.evaluateHandle((id) => {
      for (const el of document.querySelectorAll('.opblock-summary-operation-id')) {
        if (el.textContent.trim() === id) return el.closest('.opblock');
      }
      return null;
    }, operationId);
    assert.ok(await block.evaluate((b) => b !== null), operationId + ' is on the page');
    const isOpen = await block.evaluate((b) => b.classList.contains('is-open'));
    if (!isOpen) {
      await (await block.$('.opblock-summary-control')).click();
    }
    await block.waitForSelector('.try-out__btn');
    const label = await block.$eval('.try-out__btn', (b) => b.textContent.trim());
    if (label === 'Try it out') await (await block.$('.try-out__btn')).click();
    if (prepare) await prepare(block);
    await block.waitForSelector('button.execute');
    await (await block.$('button.execute')).click();
    await block.waitForSelector('.live-responses-table tbody .response-col_status');
    const status = await block.$eval('.live-responses-table tbody .response-col_status', (e) => e.textContent.trim());
    await (await block.$('.btn-clear')).click().catch(() => {});
    return Number.parseInt(status, 10);
  }

  // Before authorizing: ping works, a list is 401, and no login dialog comes up.
  assert.equal(await tryOut('systemPing'), 200);
  assert.equal(await tryOut('reeProcessList'), 401);
  assert.ok(challenges.length > 0, 'the 401 was seen');
  for (const c of challenges) assert.ok(!/basic/i.test(c), `no Basic challenge reaches the browser (got "${c}")`);
  log('ping 200; list before authorizing 401 without a Basic challenge');

  // authorize fills one scheme's section of the Authorize dialog.
  async function authorize(scheme, fill) {
    await page.click('.auth-wrapper .authorize');
    await page.waitForSelector('.modal-ux');
    const section = await page.evaluateHandle((name) => {
      for (const c of document.querySelectorAll('.modal-ux .auth-container')) {
        if (c.querySelector('h4')?.textContent.includes(name)) return c;
      }
      return null;
    }, scheme);
    assert.ok(await section.evaluate((s) => s !== null), scheme + ' is in the Authorize dialog');
    await fill(section);
    await (await section.$('button.authorize')).click();
    await page.click('.modal-ux .btn-done');
  }
  async function logout(scheme) {
    await page.click('.auth-wrapper .authorize');
    await page.waitForSelector('.modal-ux');
    await page.evaluate((name) => {
      for (const c of document.querySelectorAll('.modal-ux .auth-container')) {
        if (c.querySelector('h4')?.textContent.includes(name)) c.querySelector('button.logout, button.btn-done ~ button, button:not(.btn-done)').click();
      }
    }, scheme);
    await page.click('.modal-ux .btn-done');
  }

  await authorize('basicAuth', async (s) => {
    const inputs = await s.$$('input');
    await inputs[0].type('admin');
    await inputs[1].type(process.env.REEHUB_ADMIN_PASSWORD);
  });
  assert.equal(await tryOut('reeProcessList'), 200);
  assert.match(sent.at(-1).authorization, /^Basic /);
  assert.equal(await tryOut('reeRecordingCreate', async (block) => {
    const file = await block.$('input[type=file]');
    await file.uploadFile(process.env.REEHUB_PROJECT_ZIP);
  }), 200);
  log('Basic: list 200, multipart upload 200');
  await logout('basicAuth');

  await authorize('bearerAuth', async (s) => {
    await (await s.$('input')).type(process.env.REEHUB_TOKEN);
  });
  assert.equal(await tryOut('reeImageList'), 200);
  assert.equal(sent.at(-1).authorization, 'Bearer ' + process.env.REEHUB_TOKEN);
  log('Bearer: image list 200');

  await page.screenshot({ path: process.env.REEHUB_SCREENSHOT, fullPage: false });
  log('screenshot', process.env.REEHUB_SCREENSHOT);
} finally {
  await browser.close();
}
