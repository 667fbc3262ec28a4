// A real browser on /docs (Swagger UI): puppeteer-core drives Debian's
// chromium. Run by tests/docs_browser_test.go with:
//   REEHUB_DOCS_URL      the server (a proxy validating every answer against openapi.yaml)
//   REEHUB_ADMIN_PASSWORD, REEHUB_TOKEN   Basic and Bearer credentials
//   REEHUB_EXPECTED      a JSON file: [{tag, operations: [operationId...]}] in the spec's order
//   REEHUB_PROJECT_ZIP   a project zip for the multipart upload
//   REEHUB_SCREENSHOT    where to save the screenshot (a failed run saves <it>.failed.png)
//   REEHUB_CHROMIUM, REEHUB_NODE_MODULES
//   REEHUB_STEP_TIMEOUT_MS   the bound of one wait (default 120000)
//
// Robust under CI's load (2 cores shared by several jobs): no fixed sleeps,
// every wait is on a condition with a bound; the browser talks over a pipe (no
// websocket to time out); launching is retried once, and so is the whole
// scenario when the browser itself crashed or lost its connection (never when
// an assertion failed: those are the product's failures).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const require = createRequire(process.env.REEHUB_NODE_MODULES + '/');
const puppeteer = require('puppeteer-core');

const base = process.env.REEHUB_DOCS_URL;
const expected = JSON.parse(readFileSync(process.env.REEHUB_EXPECTED, 'utf8'));
const stepTimeout = Number(process.env.REEHUB_STEP_TIMEOUT_MS || 120_000);
const started = Date.now();
const log = (...a) => console.log(`docs: ${((Date.now() - started) / 1000).toFixed(1)}s`, ...a);

// The flags CI needs: no sandbox (root in a container), /tmp instead of a small
// /dev/shm, no GPU, and --headless=new (what headless: true adds). The rest keep
// a page that is not in front from being throttled while the machine is busy.
const chromiumArgs = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--disable-gpu',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  '--no-first-run',
  '--no-default-browser-check',
];

async function launch() {
  const opts = {
    executablePath: process.env.REEHUB_CHROMIUM,
    headless: true,
    pipe: true,
    args: chromiumArgs,
    timeout: 180_000, // chromium's start, at load
    protocolTimeout: 4 * stepTimeout, // one DevTools call (a screenshot, an evaluate)
  };
  try {
    return await puppeteer.launch(opts);
  } catch (err) {
    log('launch failed, retrying once:', err.message);
    return await puppeteer.launch(opts);
  }
}

// BrowserGone is a crash of chromium or of its connection, not of reehub.
class BrowserGone extends Error {}

function isBrowserFailure(err, browser) {
  if (err instanceof assert.AssertionError) return false;
  if (!browser.connected) return true;
  return /Target closed|Session closed|Connection closed|Protocol error|crashed|detached/i.test(String(err?.message));
}

async function scenario(browser) {
  const page = await browser.newPage();
  page.on('error', (err) => log('page crashed:', err.message));
  await page.setViewport({ width: 1400, height: 1000 });
  page.setDefaultTimeout(stepTimeout);
  page.setDefaultNavigationTimeout(stepTimeout);
  const challenges = []; // WWW-Authenticate of every 401 the page got
  const sent = []; // Authorization of every API request
  const dialogs = []; // any JavaScript dialog (alert, confirm, prompt)
  page.on('response', (r) => {
    if (r.status() === 401) challenges.push(r.headers()['www-authenticate'] || '');
  });
  page.on('request', (r) => {
    if (r.url().includes('/api/')) sent.push({ url: r.url(), authorization: r.headers()['authorization'] || '' });
  });
  page.on('dialog', (d) => {
    dialogs.push(d.type() + ': ' + d.message());
    d.dismiss().catch(() => {});
  });
  // A 401 with a Basic challenge makes a browser ask for a login; over
  // DevTools that is Fetch.authRequired (for the API requests paused here).
  // Count them and cancel each, as a user closing the dialog would.
  const basicPrompts = [];
  const cdp = await page.createCDPSession();
  await cdp.send('Fetch.enable', { handleAuthRequests: true, patterns: [{ urlPattern: '*/api/*', requestStage: 'Request' }] });
  cdp.on('Fetch.requestPaused', (e) => cdp.send('Fetch.continueRequest', { requestId: e.requestId }).catch(() => {}));
  cdp.on('Fetch.authRequired', (e) => {
    basicPrompts.push(e.request.url + ' ' + (e.authChallenge?.scheme || ''));
    cdp.send('Fetch.continueWithAuth', { requestId: e.requestId, authChallengeResponse: { response: 'CancelAuth' } }).catch(() => {});
  });

  try {
    await page.goto(base + '/docs/', { waitUntil: 'domcontentloaded' });
    // The UI renders once it has fetched and parsed the spec: wait until it
    // shows as many tags as expected (the first section alone may be early).
    await page.waitForFunction((n) => document.querySelectorAll('.opblock-tag-section').length >= n, {}, expected.length);

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
    // and returns the status the UI shows once the answer is in (cleared
    // again unless keep, which leaves it on screen for the screenshot).
    async function tryOut(operationId, prepare, { keep = false } = {}) {
      const block = await page.evaluateHandle((id) => {
        for (const el of document.querySelectorAll('.opblock-summary-operation-id')) {
          if (el.textContent.trim() === id) return el.closest('.opblock');
        }
        return null;
      }, operationId);
      assert.ok(await block.evaluate((b) => b !== null), operationId + ' is on the page');
      if (!(await block.evaluate((b) => b.classList.contains('is-open')))) {
        await (await block.$('.opblock-summary-control')).click();
      }
      await block.waitForSelector('.try-out__btn');
      const label = await block.$eval('.try-out__btn', (b) => b.textContent.trim());
      if (label === 'Try it out') await (await block.$('.try-out__btn')).click();
      if (prepare) await prepare(block);
      await block.waitForSelector('button.execute');
      const before = sent.length;
      await (await block.$('button.execute')).click();
      await block.waitForSelector('.live-responses-table tbody .response-col_status');
      const status = await block.$eval('.live-responses-table tbody .response-col_status', (e) => e.textContent.trim());
      assert.ok(sent.length > before, operationId + ': the UI sent a request');
      const last = sent.at(-1);
      if (keep) {
        await block.$eval('.live-responses-table', (e) => e.scrollIntoView());
        return { status: Number.parseInt(status, 10), authorization: last.authorization };
      }
      await (await block.$('.btn-clear'))?.click().catch(() => {});
      // Clearing removes the answer: wait for it, so that the next try of the
      // same operation cannot read this one's status.
      await page.waitForFunction((b) => !b.querySelector('.live-responses-table'), {}, block).catch(() => {});
      return { status: Number.parseInt(status, 10), authorization: last.authorization };
    }

    // Before authorizing: ping works, a list is 401, and no login dialog comes up.
    assert.equal((await tryOut('systemPing')).status, 200);
    assert.equal((await tryOut('reeProcessList')).status, 401);
    assert.ok(challenges.length > 0, 'the 401 was seen');
    for (const c of challenges) assert.ok(!/basic/i.test(c), `no Basic challenge reaches the browser (got "${c}")`);
    assert.deepEqual(basicPrompts, [], 'the browser was never asked for a login');
    assert.deepEqual(dialogs, [], 'no dialog opened');
    log('ping 200; list before authorizing 401 without a Basic challenge or login prompt');

    // authorize fills one scheme's section of the Authorize dialog.
    async function openAuthorize() {
      await page.click('.auth-wrapper .authorize');
      await page.waitForSelector('.modal-ux .auth-container');
    }
    async function section(name) {
      const s = await page.evaluateHandle((n) => {
        for (const c of document.querySelectorAll('.modal-ux .auth-container')) {
          if (c.querySelector('h4')?.textContent.includes(n)) return c;
        }
        return null;
      }, name);
      assert.ok(await s.evaluate((x) => x !== null), name + ' is in the Authorize dialog');
      return s;
    }
    async function closeAuthorize() {
      await page.click('.modal-ux .btn-done');
      await page.waitForFunction(() => !document.querySelector('.modal-ux'));
    }
    // button waits for the button of section s labelled text (Swagger UI's
    // Authorize and Logout buttons carry no class of their own).
    async function button(s, text) {
      const b = await page.waitForFunction(
        (sec, t) => [...sec.querySelectorAll('button')].find((x) => x.textContent.trim() === t) || null,
        {}, s, text);
      return b.asElement();
    }
    async function authorize(scheme, fill) {
      await openAuthorize();
      const s = await section(scheme);
      await fill(s);
      await (await button(s, 'Authorize')).click();
      await button(await section(scheme), 'Logout'); // authorized
      await closeAuthorize();
    }
    async function logout(scheme) {
      await openAuthorize();
      const s = await section(scheme);
      await (await button(s, 'Logout')).click();
      await button(await section(scheme), 'Authorize'); // logged out
      await closeAuthorize();
    }

    await authorize('basicAuth', async (s) => {
      const inputs = await s.$$('input');
      await inputs[0].type('admin');
      await inputs[1].type(process.env.REEHUB_ADMIN_PASSWORD);
    });
    const list = await tryOut('reeProcessList');
    assert.equal(list.status, 200);
    assert.match(list.authorization, /^Basic /);
    const upload = await tryOut('reeRecordingCreate', async (block) => {
      const file = await block.waitForSelector('input[type=file]');
      await file.uploadFile(process.env.REEHUB_PROJECT_ZIP);
    });
    assert.equal(upload.status, 200);
    assert.match(upload.authorization, /^Basic /);
    log('Basic: list 200, multipart upload 200');
    await logout('basicAuth');

    await authorize('bearerAuth', async (s) => {
      await (await s.$('input')).type(process.env.REEHUB_TOKEN);
    });
    const images = await tryOut('reeImageList', null, { keep: true });
    assert.equal(images.status, 200);
    assert.equal(images.authorization, 'Bearer ' + process.env.REEHUB_TOKEN);
    log('Bearer: image list 200');
    assert.deepEqual(basicPrompts, [], 'the browser was never asked for a login');
    assert.deepEqual(dialogs, [], 'no dialog opened');

    await page.screenshot({ path: process.env.REEHUB_SCREENSHOT, fullPage: false });
    log('screenshot', process.env.REEHUB_SCREENSHOT);
  } catch (err) {
    if (browser.connected) {
      await page.screenshot({ path: process.env.REEHUB_SCREENSHOT + '.failed.png' }).catch(() => {});
    }
    throw err;
  }
}

for (let attempt = 1; ; attempt++) {
  const browser = await launch();
  log('chromium', await browser.version(), browser.process()?.spawnargs.filter((a) => a.startsWith('--headless')).join(' '));
  try {
    await scenario(browser);
    break;
  } catch (err) {
    if (attempt === 1 && isBrowserFailure(err, browser)) {
      log('the browser failed (not reehub), running the scenario again once:', err.message);
      continue;
    }
    throw err instanceof Error ? err : new BrowserGone(String(err));
  } finally {
    await browser.close().catch(() => {});
  }
}
log('passed');
