// Browser test of the sidebar H5 in headless Debian chromium (playwright-core, no browser download) against a
// real `scrm serve` in demo mode: it loads a demo customer's profile, saves a note, sends a quick reply through
// the demo JS-SDK shim and checks the send was recorded; screenshots go to test-output/.
//
// Usage: SCRM_BIN=/path/to/scrm node tests/sidebar.browser.mjs   (run `npm run build` first)

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const scrmBin = process.env.SCRM_BIN ?? join(root, '../../target/debug/scrm');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const port = 20000 + Math.floor(Math.random() * 20000);
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'scrm-sidebar-'));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}

const json = async (path, init) => {
  const response = await fetch(`${base}${path}`, init);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
};

let log = '';
const scrm = spawn(scrmBin, ['serve'], {
  env: {
    ...process.env,
    SCRM_DATA_DIR: dataDir,
    SCRM_SERVER_LISTEN: `127.0.0.1:${port}`,
    SCRM_SERVER_SIDEBAR_DIR: join(root, 'dist'),
    SCRM_SERVER_STATIC_DIR: join(dataDir, 'no-admin'),
    // The sidebar does not sign in through WeCom OAuth yet: its calls act as the configured local caller.
    SCRM_AUTH_LOCAL_CALLER: 'true',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
scrm.stdout.on('data', (chunk) => (log += chunk));
scrm.stderr.on('data', (chunk) => (log += chunk));

let browser;
try {
  // The demo corp is synced and its quick replies are created in the background after start.
  const replies = await eventually('the demo quick replies', async () => {
    const body = await json('/api/sidebar/quick-replies');
    return body.replies.length >= 3 ? body.replies : null;
  });

  // A demo customer, read from the simulator as WeCom would list it.
  const simulator = await eventually('the simulator address in the log', () =>
    log.match(/simulator[^h]*(http:\/\/127\.0\.0\.1:\d+)/)?.[1],
  );
  const cgi = async (path) => {
    const response = await fetch(`${simulator}/cgi-bin/${path}`);
    return response.json();
  };
  const { access_token: token } = await cgi('gettoken?corpid=wwsimcorp0000000001&corpsecret=sim-secret');
  const { follow_user: followUsers } = await cgi(`externalcontact/get_follow_user_list?access_token=${token}`);
  let contact;
  for (const userid of followUsers) {
    const list = await cgi(`externalcontact/list?access_token=${token}&userid=${userid}`);
    if (list.external_userid?.length) {
      contact = list.external_userid[0];
      break;
    }
  }
  assert.ok(contact, 'the demo corp has a customer');
  const profile = await eventually('the synced customer', () => json(`/api/crm/customers/${contact}`));

  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  await page.goto(`${base}/sidebar/?contact=${encodeURIComponent(contact)}`);

  // The profile.
  await page.getByText('演示模式').waitFor();
  const name = await page.locator('[data-test=customer-name] .van-cell__title > span').first().textContent();
  assert.equal(name, profile.name);

  // A note, saved to the customer service.
  await page.locator('[data-test=note-input] textarea').fill('浏览器测试备注：偏好周末到店');
  await page.locator('[data-test=note-save]').click();
  await page.getByText('备注已保存').waitFor();
  const notes = await json(`/api/sidebar/customers/${contact}/notes`);
  assert.ok(notes.notes.some((note) => note.content === '浏览器测试备注：偏好周末到店'));

  mkdirSync(join(root, 'test-output'), { recursive: true });
  await page.screenshot({ path: join(root, 'test-output', 'sidebar-profile.png'), fullPage: true });

  // A quick reply: one tap renders it for this customer, "sends" it through the shim and records the send.
  await page.getByRole('tab', { name: '快捷回复' }).click();
  const greeting = replies.find((reply) => reply.title === '开场白');
  await page.locator(`[data-test=reply-${greeting.id}]`).click();
  await page.getByText('已发送').waitFor();
  const sent = await page.evaluate(() => window.__scrmDemoSent);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].msgtype, 'text');
  assert.match(sent[0].text.content, /您好，我是.+，很高兴为您服务/);
  assert.ok(!sent[0].text.content.includes('{'), 'the variables are filled');
  const after = await json('/api/sidebar/quick-replies');
  assert.equal(after.replies.find((reply) => reply.id === greeting.id).usageCount, 1, 'the send is recorded');

  await page.screenshot({ path: join(root, 'test-output', 'sidebar-quick-replies.png'), fullPage: true });
  console.log(`sidebar browser test passed (customer ${contact}); screenshots in test-output/`);
} catch (error) {
  console.error(error);
  console.error(log.split('\n').slice(-30).join('\n'));
  process.exitCode = 1;
} finally {
  await browser?.close();
  scrm.kill('SIGTERM');
  await sleep(500);
  rmSync(dataDir, { recursive: true, force: true });
}
