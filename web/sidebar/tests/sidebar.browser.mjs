// Browser test of the sidebar H5 in headless Debian chromium (playwright-core, no browser download) against a
// real `scrm serve` in demo mode, with sign-in required: the page signs in through WeCom OAuth (the simulator's
// authorize page), loads a demo customer's profile (a KOC in the demo campaign: badge and campaign shown), saves
// a note, adds a tag from the corp tag library (and the simulator's WeCom then has it), sends a quick reply and
// the demo campaign's link card through the demo JS-SDK shim and checks the sends were recorded; screenshots go
// to test-output/.
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

// The browser's session, once it has signed in, for the test's own calls.
let session = { cookie: '', csrf: '' };
const json = async (path, init = {}) => {
  const headers = { ...init.headers, cookie: session.cookie, 'x-csrf-token': session.csrf };
  const response = await fetch(`${base}${path}`, { ...init, headers });
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
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
scrm.stdout.on('data', (chunk) => (log += chunk));
scrm.stderr.on('data', (chunk) => (log += chunk));

let browser;
try {
  // A demo customer and the staff member following them, read from the simulator as WeCom would list them.
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
  let follower;
  for (const userid of followUsers) {
    const list = await cgi(`externalcontact/list?access_token=${token}&userid=${userid}`);
    if (list.external_userid?.length) {
      contact = list.external_userid[0];
      follower = userid;
      break;
    }
  }
  assert.ok(contact, 'the demo corp has a customer');

  await eventually('scrm to serve', async () => (await fetch(`${base}/healthz`)).ok);
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const sidebarUrl = `${base}/sidebar/?contact=${encodeURIComponent(contact)}`;

  // Sign-in: without a session the page goes to WeCom's OAuth page (the simulator's), where the follower is
  // picked; WeCom sends the page back with a code, which scrm exchanges for a session cookie.
  await page.goto(sidebarUrl);
  await page.getByText('模拟企业微信登录').waitFor();
  assert.ok(page.url().startsWith(simulator), page.url());
  const authorize = new URL(page.url());
  authorize.searchParams.set('userid', follower);
  await page.goto(authorize.toString());
  await eventually('the signed-in sidebar', async () => {
    const url = new URL(page.url());
    return url.href.startsWith(base) && !url.searchParams.has('code');
  });
  const cookies = await page.context().cookies(base);
  assert.ok(cookies.some((cookie) => cookie.name === 'scrm_session'), 'signed in with a session cookie');
  session = {
    cookie: cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; '),
    csrf: cookies.find((cookie) => cookie.name === 'scrm_csrf')?.value ?? '',
  };
  const me = await json('/api/auth/me');
  assert.equal(me.user.userid, follower);

  // The demo corp is synced and its quick replies and campaign are created in the background after start.
  const replies = await eventually('the demo quick replies', async () => {
    const body = await json('/api/sidebar/quick-replies');
    const titles = body.replies.map((reply) => reply.title);
    return titles.includes('新客优惠券') && titles.includes('邀请好友得盲盒') ? body.replies : null;
  });
  const profile = await eventually('the synced customer, a KOC in the demo campaign', async () => {
    const body = await json(`/api/crm/customers/${contact}`);
    return body.isKoc && body.campaigns.length ? body : null;
  });
  await page.goto(sidebarUrl);

  // The profile.
  await page.getByText('演示模式').waitFor();
  const name = await page.locator('[data-test=customer-name] .van-cell__title > span').first().textContent();
  assert.equal(name, profile.name);
  await page.locator('[data-test=koc-badge]').waitFor();
  await page.locator(`[data-test=campaign-${profile.campaigns[0].campaignId}]`).getByText('邀请好友得盲盒').waitFor();

  // A note, saved to the customer service.
  await page.locator('[data-test=note-input] textarea').fill('浏览器测试备注：偏好周末到店');
  await page.locator('[data-test=note-save]').click();
  await page.getByText('备注已保存').waitFor();
  const notes = await json(`/api/sidebar/customers/${contact}/notes`);
  assert.ok(notes.notes.some((note) => note.content === '浏览器测试备注：偏好周末到店'));

  // A tag from the corp tag library, written back to WeCom (mark_tag).
  const mine = new Set(
    (profile.followUsers.find((follow) => follow.userid === follower)?.tags ?? []).map((tag) => tag.tagId),
  );
  const library = await json('/api/crm/tags');
  const tag = library.groups.flatMap((group) => group.tags).find((candidate) => !mine.has(candidate.tagId));
  assert.ok(tag, 'the library has a tag the customer lacks');
  await page.locator('[data-test=tags-edit]').click();
  await page.locator(`[data-test=lib-tag-${tag.tagId}]`).click();
  await page.getByText('已添加标签').waitFor();
  await page.locator('[data-test=tags]').getByText(tag.name).waitFor();
  const inWecom = await cgi(`externalcontact/get?access_token=${token}&external_userid=${contact}`);
  const relation = inWecom.follow_user.find((follow) => follow.userid === follower);
  assert.ok(
    relation.tags.some((wecomTag) => wecomTag.tag_id === tag.tagId),
    `the simulator's WeCom has the tag: ${JSON.stringify(relation.tags)}`,
  );

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

  // A coupon reply: sent as a link card to the coupon page; recording the send issues the coupon to the
  // customer through the rewards service, and the toast shows its code.
  const coupon = replies.find((reply) => reply.title === '新客优惠券');
  assert.equal(coupon.kind, 'QUICK_REPLY_KIND_COUPON');
  await page.locator(`[data-test=reply-${coupon.id}]`).click();
  const toast = await page.getByText(/已发送，券码 [0-9A-Z]{12}/).textContent();
  const cards = await page.evaluate(() => window.__scrmDemoSent);
  assert.equal(cards.length, 2);
  assert.equal(cards[1].msgtype, 'news');
  assert.equal(cards[1].news.link, 'https://shop.example.com/coupons');
  assert.match(toast, /券码/);

  // The campaign link goes out as a link card to the campaign's landing page.
  const campaignLink = replies.find((reply) => reply.title === '邀请好友得盲盒');
  await page.locator(`[data-test=reply-${campaignLink.id}]`).click();
  await eventually('the campaign link sent', async () => (await page.evaluate(() => window.__scrmDemoSent)).length === 3);
  const card = (await page.evaluate(() => window.__scrmDemoSent))[2];
  assert.equal(card.msgtype, 'news');
  assert.match(card.news.link, new RegExp(`/campaign/${profile.campaigns[0].campaignId}$`));
  assert.equal(card.news.title, '邀请好友得盲盒');

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
