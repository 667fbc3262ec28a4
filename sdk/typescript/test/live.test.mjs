// Live tests of the TypeScript SDK against a running reehub. The Go e2e suite
// (tests/sdk_typescript_test.go) starts the server and runs these with
// REEHUB_TEST_SERVER (a proxy that validates every answer against
// openapi.yaml), REEHUB_TEST_ADMIN_PASSWORD and REEHUB_TEST_PROJECT_ZIP set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openAsBlob } from 'node:fs';

import {
  createReehubClient,
  ReehubError,
  systemPing,
  accountMe,
  accountCreateToken,
  reeRecordingCreate,
  reeProcessStatus,
  reeImageDownload,
} from '../dist/index.js';

const baseUrl = process.env.REEHUB_TEST_SERVER;
const password = process.env.REEHUB_TEST_ADMIN_PASSWORD;
const projectZip = process.env.REEHUB_TEST_PROJECT_ZIP;
assert.ok(baseUrl && password && projectZip, 'REEHUB_TEST_SERVER, REEHUB_TEST_ADMIN_PASSWORD and REEHUB_TEST_PROJECT_ZIP are set');

// recordingFetch remembers the Authorization header and URL of every request.
function recordingFetch() {
  const seen = [];
  const f = async (req) => {
    seen.push({ url: req.url, authorization: req.headers.get('Authorization') });
    return fetch(req);
  };
  return { fetch: f, seen };
}

const basic = { username: 'admin', password };

test('ping needs no credentials', async () => {
  const client = createReehubClient({ baseUrl });
  const { data } = await systemPing({ client });
  assert.equal(data.message, 'OK');
});

test('Basic and Bearer each go to their own scheme', async () => {
  const b = recordingFetch();
  const byPassword = createReehubClient({ baseUrl, credentials: { basic }, fetch: b.fetch });
  const me = await accountMe({ client: byPassword });
  assert.equal(me.data.name, 'admin');
  assert.match(b.seen.at(-1).authorization, /^Basic /);

  const created = await accountCreateToken({
    client: byPassword,
    body: { name: 'sdk-test-' + Date.now(), scopes: ['read', 'write'], expires_in_days: 1 },
  });
  const token = created.data.token;
  assert.match(token, /^reeh_/);

  const t = recordingFetch();
  const byToken = createReehubClient({ baseUrl, credentials: { token }, fetch: t.fetch });
  const again = await accountMe({ client: byToken });
  assert.equal(again.data.name, 'admin');
  assert.equal(t.seen.at(-1).authorization, 'Bearer ' + token, 'a token is sent as Bearer, never as Basic');
  assert.ok(!t.seen.at(-1).url.includes('access_token'), 'the token stays out of the URL');
});

test('the error model is a thrown ReehubError', async () => {
  const client = createReehubClient({ baseUrl, credentials: { basic } });
  await assert.rejects(
    reeProcessStatus({ client, path: { uuid: '00000000-0000-4000-8000-000000000000' } }),
    (err) => {
      assert.ok(err instanceof ReehubError);
      assert.ok(err instanceof Error);
      assert.equal(err.status, 404);
      assert.equal(err.code, 404);
      assert.match(err.message, /not found/);
      return true;
    },
  );
  const wrong = createReehubClient({ baseUrl, credentials: { basic: { username: 'admin', password: 'wrong' } } });
  await assert.rejects(accountMe({ client: wrong }), (err) => err instanceof ReehubError && err.status === 401);
});

test('a multipart upload from a file stream starts a recording', async () => {
  const client = createReehubClient({ baseUrl, credentials: { basic } });
  const file = await openAsBlob(projectZip, { type: 'application/zip' }); // read from disk as it is sent
  const { data } = await reeRecordingCreate({ client, body: { file, tag: 'sdk_ts' } });
  assert.equal(data.tag, 'sdk_ts');
  let status;
  for (let i = 0; i < 600; i++) {
    ({ data: status } = await reeProcessStatus({ client, path: { uuid: data.uuid } }));
    if (['processed', 'failed', 'cancelled'].includes(status.status)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.equal(status.status, 'processed', status.reason);
});

test('a base image downloads as a stream, counted without holding it', async () => {
  const client = createReehubClient({ baseUrl, credentials: { basic } });
  const before = process.memoryUsage().rss;
  const { data: stream, response } = await reeImageDownload({ client, path: { name: 'python_3_11' }, parseAs: 'stream' });
  const size = Number(response.headers.get('Content-Length'));
  assert.ok(size > 50 << 20, `a base image is large (${size} bytes)`);
  let counted = 0;
  let peak = before;
  for await (const chunk of stream) {
    counted += chunk.byteLength;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  assert.equal(counted, size);
  assert.ok(peak - before < size / 2, `RSS grew by ${peak - before} bytes for a ${size}-byte download`);
});
