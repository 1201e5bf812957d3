// End-to-end tests of the web admin in headless Debian chromium (playwright-core, no browser download),
// against a real `scrm serve` running the demo corp on the built-in simulator. Screenshots land in
// e2e/screenshots/. The binary is $SCRM_BIN, else $CARGO_TARGET_DIR/debug/scrm, else ../../target/debug/scrm.
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const binary =
  process.env.SCRM_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, "target"), "debug", "scrm");
const screenshots = path.join(here, "screenshots");
const password = "e2e-admin-password";

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startScrm(dataDir, port, extraEnv = {}) {
  const env = { ...process.env, SCRM_ADMIN_PASSWORD: password, SCRM_SERVER_STATIC_DIR: path.resolve(here, "../dist"), RUST_LOG: "warn", ...extraEnv };
  const child = spawn(binary, ["serve", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir], { env, stdio: ["ignore", "inherit", "inherit"] });
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill("SIGTERM");
  throw new Error("scrm serve did not answer /healthz within 20 s");
}

function token(dataDir, role, stores = []) {
  const args = ["token", "create", "--role", role, "--name", `e2e ${role}`, "--data-dir", dataDir];
  for (const store of stores) args.push("--store", String(store));
  return execFileSync(binary, args, { encoding: "utf8", env: { ...process.env, RUST_LOG: "warn" } }).trim();
}

async function overview(base, bearer) {
  const response = await fetch(`${base}/api/overview`, { headers: { authorization: `Bearer ${bearer}` } });
  assert.equal(response.status, 200);
  return response.json();
}

/** GET of a REST path as the holder of `bearer`, answering its JSON. */
async function getJson(base, bearer, path) {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
  assert.equal(response.status, 200, `${path} answers 200`);
  return response.json();
}

/** A fresh browser tab signed in with an API token, as an integration or a scripted user would be. */
async function pageWithToken(browser, bearer) {
  const context = await browser.newContext({
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
    extraHTTPHeaders: { authorization: `Bearer ${bearer}` },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return page;
}

const tests = [];
const test = (name, body) => tests.push({ name, body });

test("signs in with the admin password", async ({ page, base }) => {
  await page.goto(`${base}/org`);
  await page.waitForURL(/\/login/);
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", "wrong password");
  await page.click("button[type=submit]");
  await page.getByText("用户名或密码错误").waitFor();
  await page.screenshot({ path: path.join(screenshots, "01-login-error.png") });
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.locator("[data-test=current-user]").getByText("管理员").waitFor();
  assert.match(page.url(), /\/org$/);
  await page.screenshot({ path: path.join(screenshots, "02-signed-in.png") });
});

test("runs a sync and watches it finish", async ({ page, base }) => {
  await page.goto(`${base}/org`);
  await page.click("[data-test=start-sync]");
  await page.locator("[data-test=sync-message]").getByText("同步完成").waitFor({ timeout: 60_000 });
  await page.screenshot({ path: path.join(screenshots, "03-sync-finished.png") });
  await page.goto(`${base}/`);
  await page.locator(".chart canvas").waitFor();
  await page.screenshot({ path: path.join(screenshots, "04-overview.png") });
});

test("a store manager cannot see another store's data (API)", async ({ base, dataDir }) => {
  const operator = await overview(base, token(dataDir, "operator"));
  assert.ok(operator.customerTotal > 0, "the synced demo corp has customers");
  const manager = await overview(base, token(dataDir, "store_manager", [987654321]));
  assert.equal(manager.customerTotal, 0, "none of the customers belong to the manager's store");
  assert.equal(manager.groupTotal, 0);
});

test("an API token shows in the tokens page and the audit log records the sync", async ({ page, base }) => {
  await page.goto(`${base}/tokens`);
  await page.getByText("e2e operator").first().waitFor();
  await page.goto(`${base}/audit`);
  await page.getByText("identity.StartSync").first().waitFor();
  await page.screenshot({ path: path.join(screenshots, "05-audit.png") });
});

test("the settings page shows the WeCom corp without secrets and checks the connection", async ({ page, base }) => {
  await page.goto(`${base}/settings`);
  await page.getByText("回调 URL").waitFor();
  await page.getByText("/wecom/callback").first().waitFor();
  // The demo corp is not configured through SCRM_WECOM_* settings: the page may edit it, and shows secrets as set.
  await page.getByText("已设置").first().waitFor();
  assert.ok(!(await page.content()).includes("sim-secret"), "no secret is shown");
  await page.click("[data-test=check-connection]");
  await page.locator("[data-test=connection-result]").getByText("连接正常").waitFor({ timeout: 20_000 });
  await page.screenshot({ path: path.join(screenshots, "08-settings.png"), fullPage: true });
});

test("the org structure page maps a department to a store and searches the staff", async ({ page, base }) => {
  await page.goto(`${base}/structure`);
  await page.locator("[data-test=edit-store]").first().click();
  await page.locator(".el-dialog .el-switch").click();
  await page.fill("input[name=store_code]", "E2E001");
  await page.fill("input[name=address]", "上海市徐汇区");
  await page.click("[data-test=save-store]");
  await page.getByText("门店 · E2E001").waitFor();
  const total = await page.locator("[data-test=staff-total]").textContent();
  assert.match(total, /共 [1-9]\d* 人/);
  const firstUserid = (await page.locator("[data-test=staff-table] .el-table__row td").first().textContent()).trim();
  await page.fill("input[name=staff-query]", firstUserid);
  await page.press("input[name=staff-query]", "Enter");
  await page.locator("[data-test=staff-total]").getByText("共 1 人").waitFor();
  await page.screenshot({ path: path.join(screenshots, "09-org-structure.png") });
  await page.goto(`${base}/audit`);
  await page.getByText("identity.store.set").first().waitFor();
});

test("staff sign in with WeCom through the simulator's authorize page", async ({ page, base }) => {
  await page.click("text=退出登录");
  await page.waitForURL(/\/login/);
  await page.click("text=企业微信登录");
  await page.getByText("模拟企业微信登录").waitFor();
  await page.screenshot({ path: path.join(screenshots, "06-wecom-authorize.png") });
  const member = page.locator("li a").first();
  const userid = (await member.textContent()).match(/\(([^)]+)\)$/)[1];
  await member.click();
  await page.locator("[data-test=current-user]").getByText(userid).waitFor();
  assert.equal(new URL(page.url()).pathname, "/");
  await page.screenshot({ path: path.join(screenshots, "07-wecom-signed-in.png") });
});

/** A time `offsetMs` from now as the date picker shows it in the browser's timezone (Asia/Shanghai). */
function pickerTime(offsetMs) {
  return new Date(Date.now() + offsetMs).toLocaleString("sv-SE", { timeZone: "Asia/Shanghai", hour12: false });
}

/** A time already past but still today, as the date picker shows it: an hour ago, or midnight in the day's
 * first hour (the picker refuses earlier days, so a time from yesterday would never reach the form's check). */
function pastPickerTimeToday() {
  const anHourAgo = pickerTime(-3_600_000);
  const today = pickerTime(0).slice(0, 10);
  return anHourAgo.startsWith(today) ? anHourAgo : `${today} 00:00:00`;
}

// The tests below run as the operator signed in through WeCom above (the admin has no group permissions).
test("browses the group list, sorts it and opens a group's members and activity", async ({ page, base }) => {
  await page.goto(`${base}/groups`);
  const rows = page.locator("[data-test=group-table] .el-table__body-wrapper tbody tr");
  await rows.first().waitFor();
  assert.match(await page.locator("[data-test=group-total]").textContent(), /共 [1-9]\d* 个社群/);
  await page.locator("th", { hasText: "成员" }).first().locator(".caret-wrapper .descending").click();
  // The server sorts: wait until the rendered page is in descending member order.
  await page.waitForFunction(() => {
    const counts = [...document.querySelectorAll("[data-test=group-table] .el-table__body-wrapper tbody tr")].map((tr) =>
      Number(tr.querySelectorAll("td")[4].textContent),
    );
    return counts.length > 1 && counts.every((count, index) => index === 0 || counts[index - 1] >= count) && counts[0] > counts[counts.length - 1];
  });
  await page.screenshot({ path: path.join(screenshots, "08-group-list.png"), fullPage: true });
  await rows.first().locator("a").click();
  await page.waitForURL(/\/groups\/\d+$/);
  await page.locator("[data-test=member-table] tbody tr").first().waitFor();
  await page.locator("[data-test=activity-chart] canvas, .el-empty").first().waitFor();
  // Tag the group with a tag typed as a new name: it is created, then carried by the group.
  await page.locator(".tags .el-select").click();
  await page.keyboard.type("高潜转化群");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Escape");
  await page.click("[data-test=save-tags]");
  await page.getByText("标签已保存").waitFor();
  await page.screenshot({ path: path.join(screenshots, "09-group-detail.png"), fullPage: true });
  await page.click("text=返回");
  await page.locator("[data-test=group-table] .el-tag", { hasText: "高潜转化群" }).waitFor();
});

test("tunes an alert rule and lists the alerts", async ({ page, base }) => {
  await page.goto(`${base}/alerts/rules`);
  const deadGroup = page.locator("[data-test=rule-1]");
  await deadGroup.locator(".el-input-number input").first().fill("5");
  await page.click("[data-test=save-rule-1]");
  await page.getByText("预警规则已保存").waitFor();
  await page.reload();
  assert.equal(await page.locator("[data-test=rule-1] .el-input-number input").first().inputValue(), "5");
  await page.screenshot({ path: path.join(screenshots, "14-alert-rules.png"), fullPage: true });
});

test("composes and schedules a broadcast and sees its delivery report", async ({ page, base }) => {
  await page.goto(`${base}/groups`);
  const rows = page.locator("[data-test=group-table] .el-table__body-wrapper tbody tr");
  await rows.nth(1).waitFor();
  await rows.nth(0).locator(".el-checkbox").click();
  await rows.nth(1).locator(".el-checkbox").click();
  await page.click("[data-test=broadcast-selected]");
  await page.waitForURL(/\/broadcasts\/new\?groups=/);
  await page.locator("[data-test=compose-form] .el-select .el-tag").nth(1).waitFor();
  await page.fill("[data-test=broadcast-content]", "周末会员日：全场 8 折，群内回复「报名」锁定名额");
  await page.locator("[data-test=bubble-text]").getByText("周末会员日").waitFor();
  // A time in the past is refused before anything is sent, naming the field.
  const time = page.getByPlaceholder("选择发送时间");
  await time.fill(pastPickerTimeToday());
  await time.press("Enter");
  await page.click("[data-test=create-broadcast]");
  await page.locator("[data-test=form-problems]").getByText("「发送时间」发送时间已过").waitFor();
  // The earliest sensible time: a few seconds ahead (the server takes any future time up to 30 days).
  await time.fill(pickerTime(30_000));
  await time.press("Enter");
  await page.click("[data-test=run-preview]");
  await page.locator("[data-test=preview-groups]").getByText("2", { exact: true }).waitFor();
  await page.screenshot({ path: path.join(screenshots, "10-broadcast-compose.png"), fullPage: true });
  await page.click("[data-test=create-broadcast]");
  await page.waitForURL(/\/broadcasts\/\d+$/);
  await page.locator("[data-test=broadcast-state]").getByText("待发送").waitFor();
  await page.screenshot({ path: path.join(screenshots, "11-broadcast-scheduled.png"), fullPage: true });
  // Demo owners confirm their task 5 s after it is created; results are fetched every few seconds.
  await page.locator("[data-test=broadcast-state]").getByText("已完成").waitFor({ timeout: 120_000 });
  assert.equal((await page.locator("[data-test=delivered] .el-statistic__number").textContent()).trim(), "2 / 2");
  await page.locator("[data-test=group-results] tbody tr").nth(1).getByText("已送达").waitFor();
  await page.locator("[data-test=delivery-chart] canvas").waitFor();
  await page.screenshot({ path: path.join(screenshots, "12-broadcast-report.png"), fullPage: true });
  // WeCom lets a group receive one group message a day (the demo's quota): a second one today is flagged.
  const ids = await page.locator("[data-test=group-results] tbody a").evaluateAll((links) => links.map((link) => link.getAttribute("href").split("/").pop()));
  await page.goto(`${base}/broadcasts/new?groups=${ids.join(",")}`);
  await page.locator("[data-test=compose-form] .el-select .el-tag").nth(1).waitFor();
  await page.fill("[data-test=broadcast-content]", "再提醒一次：周末会员日");
  await page.click("[data-test=send-now]");
  await page.click("[data-test=run-preview]");
  await page.locator("[data-test=quota-flagged]").getByText("2 个群当天已达企业微信接收上限").waitFor();
  await page.screenshot({ path: path.join(screenshots, "12b-broadcast-quota-flagged.png"), fullPage: true });
  await page.goto(`${base}/broadcasts`);
  await page.locator("[data-test=broadcast-table] tbody tr").first().getByText("已完成").waitFor();
  await page.goto(`${base}/`);
  await page.locator("[data-test=band-chart] canvas").waitFor();
  await page.screenshot({ path: path.join(screenshots, "13-overview-groups.png"), fullPage: true });
});

test("acknowledges a dead-group alert, with its evidence", async ({ page, base }) => {
  // The demo's groups never had a message; the rules run every minute, so the first alerts come within one.
  const rows = page.locator("[data-test=alert-table] .el-table__body-wrapper tbody tr");
  let raised = false;
  for (let attempt = 0; attempt < 30 && !raised; attempt++) {
    await page.goto(`${base}/alerts`);
    raised = await rows.first().waitFor({ timeout: 5_000 }).then(() => true, () => false);
  }
  assert.ok(raised, "dead-group alerts were raised");
  await rows.first().getByText("从未有人发言").first().waitFor();
  await rows.first().locator("[data-test=acknowledge]").click();
  await page.locator(".el-message-box input").fill("已联系群主，周末办活动");
  await page.locator(".el-message-box").getByRole("button", { name: "确定" }).click();
  await rows.first().getByText("已处理：已联系群主，周末办活动").waitFor();
  await page.screenshot({ path: path.join(screenshots, "15-alerts.png"), fullPage: true });
});

test("finds a customer and opens the profile", async ({ browser, base, dataDir }) => {
  const operator = token(dataDir, "operator");
  const [wanted] = (await getJson(base, operator, "/api/crm/customers?pageSize=1")).customers;
  assert.ok(wanted, "the synced demo corp has customers");
  const page = await pageWithToken(browser, operator);
  try {
    await page.goto(`${base}/customers`);
    await page.locator("[data-test=customer-name]").first().waitFor();
    await page.fill("input[data-test=customer-search]", wanted.name);
    await page.press("input[data-test=customer-search]", "Enter");
    await page.locator("[data-test=customer-name]", { hasText: wanted.name }).first().click();
    await page.waitForURL(/\/customers\/[^/]+$/);
    await page.locator("[data-test=profile-name]", { hasText: wanted.name }).waitFor();
    await page.getByText("跟进员工").waitFor();
    await page.fill("textarea[data-test=note-input]", "e2e：客户想了解春季新品");
    await page.click("[data-test=note-add]");
    await page.locator("[data-test=note]", { hasText: "e2e：客户想了解春季新品" }).waitFor();
    await page.screenshot({ path: path.join(screenshots, "20-customer-profile.png"), fullPage: true });
  } finally {
    await page.context().close();
  }
});

test("a store manager cannot see another store's data (browser)", async ({ browser, base, dataDir }) => {
  const operator = token(dataDir, "operator");
  const { customers } = await getJson(base, operator, "/api/crm/customers?pageSize=100");
  const profiles = await Promise.all(
    customers.map((row) => getJson(base, operator, `/api/crm/customers/${encodeURIComponent(row.externalUserid)}`)),
  );
  const perStore = new Map();
  for (const profile of profiles) for (const store of profile.storeIds) perStore.set(store, (perStore.get(store) ?? 0) + 1);
  const [storeA] = [...perStore.entries()].sort((a, b) => b[1] - a[1])[0];
  const other = profiles.find((profile) => !profile.storeIds.includes(storeA));
  assert.ok(other, "some customer belongs to another store");

  const manager = token(dataDir, "store_manager", [storeA]);
  const visible = (await getJson(base, manager, "/api/crm/customers?pageSize=200")).customers;
  assert.ok(visible.length > 0, "the manager sees their store's customers");
  for (const row of visible) {
    const profile = profiles.find((candidate) => candidate.externalUserid === row.externalUserid)
      ?? (await getJson(base, operator, `/api/crm/customers/${encodeURIComponent(row.externalUserid)}`));
    assert.ok(profile.storeIds.includes(storeA), `${row.externalUserid} belongs to store ${storeA}`);
  }
  assert.ok(!visible.some((row) => row.externalUserid === other.externalUserid));

  const page = await pageWithToken(browser, manager);
  try {
    await page.goto(`${base}/customers`);
    await page.locator("[data-test=customer-name]").first().waitFor();
    const shown = await page.locator("[data-test=customer-name]").allTextContents();
    // The demo corp lives on (people scan the demo campaign's contact way and become customers), so the
    // manager's customers are read again after the page showed them.
    const since = (await getJson(base, manager, "/api/crm/customers?pageSize=200")).customers;
    const names = new Set([...visible, ...since].map((row) => row.name));
    assert.ok(shown.length > 0 && shown.every((name) => names.has(name)), "the list shows the manager's customers only");
    await page.screenshot({ path: path.join(screenshots, "21-store-manager-customers.png") });
    await page.goto(`${base}/customers/${encodeURIComponent(other.externalUserid)}`);
    await page.locator("[data-test=forbidden]").getByText("403 无权查看").waitFor();
    assert.equal(await page.locator("[data-test=customer-profile]").count(), 0);
    await page.screenshot({ path: path.join(screenshots, "22-store-manager-403.png") });
  } finally {
    await page.context().close();
  }
});

test("an operator builds the quick-reply library", async ({ browser, base, dataDir }) => {
  const page = await pageWithToken(browser, token(dataDir, "operator"));
  try {
    await page.goto(`${base}/quick-replies`);
    await page.locator("[data-test=reply-folders]").waitFor();
    await page.click("[data-test=folder-new]");
    await page.fill("input[data-test=folder-name]", "e2e 开场白");
    await page.click("[data-test=folder-save]");
    await page.locator("[data-test=reply-folders]").getByText("e2e 开场白").waitFor();
    await page.getByText("这里还没有话术").waitFor();
    await page.click("[data-test=reply-new]");
    await page.fill("input[data-test=reply-title]", "问候");
    await page.fill("textarea[data-test=reply-text]", "您好，我是");
    await page.click("[data-test='insert-{员工姓名}']");
    await page.click("[data-test=reply-save]");
    await page.locator("[data-test=reply-table]").getByText("您好，我是{员工姓名}").waitFor();
    // A coupon reply, picking the demo's coupon definition from the rewards service.
    await page.click("[data-test=reply-new]");
    await page.fill("input[data-test=reply-title]", "e2e 发券");
    await page.locator("[data-test=reply-kind]").getByText("优惠券").click();
    await page.locator("[data-test=reply-coupon] input").fill("新客");
    await page.locator(".el-select-dropdown__item").getByText("新客满100减20券").click();
    await page.fill("input[data-test=reply-url]", "https://shop.example.com/coupons");
    await page.click("[data-test=reply-save]");
    await page.locator("[data-test=reply-table]").getByText("[优惠券] 新客满100减20券").waitFor();
    // A campaign link: picking the demo campaign fills its landing page.
    await page.click("[data-test=reply-new]");
    await page.fill("input[data-test=reply-title]", "e2e 活动链接");
    await page.click("[data-test=kind-campaign-link]");
    await page.click("[data-test=reply-campaign]");
    await page.locator(".el-select-dropdown__item").getByText("邀请好友得盲盒").click();
    await page.waitForFunction(() => /\/campaign\/\d+$/.test(document.querySelector("input[data-test=reply-campaign-url]")?.value ?? ""));
    await page.click("[data-test=reply-save]");
    await page.locator("[data-test=reply-table]").getByText("[活动] 邀请好友得盲盒").first().waitFor();
    await page.fill("input[data-test=reply-search]", "问候");
    await page.press("input[data-test=reply-search]", "Enter");
    await page.locator("[data-test=reply-table]").getByText("问候").waitFor();
    for (const mask of await page.locator("[data-test=reply-table] .el-loading-mask").all()) await mask.waitFor({ state: "hidden" });
    await page.screenshot({ path: path.join(screenshots, "23-quick-replies.png") });
  } finally {
    await page.context().close();
  }
});

test("an operator creates a welcome rule and sees which groups carry its template", async ({ browser, base, dataDir }) => {
  const page = await pageWithToken(browser, token(dataDir, "operator"));
  try {
    await page.goto(`${base}/welcome`);
    await page.locator("[data-test=welcome-empty]").getByText("还没有欢迎语规则").waitFor();
    await page.screenshot({ path: path.join(screenshots, "30-welcome-empty.png") });
    await page.click("[data-test=welcome-new]");
    // Saving without a name is refused before anything is sent, naming the field.
    await page.click("[data-test=welcome-save]");
    await page.locator("[data-test=welcome-problem]").getByText("「规则名称」").waitFor();
    await page.fill("input[data-test=welcome-name]", "e2e 默认欢迎语");
    await page.fill("textarea[data-test=welcome-text]", "欢迎 ");
    await page.click("[data-test='insert-%NICKNAME%']");
    await page.locator("[data-test=welcome-preview]").getByText("欢迎 小王").waitFor();
    await page.screenshot({ path: path.join(screenshots, "31-welcome-compose.png") });
    await page.click("[data-test=welcome-save]");
    await page.locator("[data-test=welcome-rules]").getByText("e2e 默认欢迎语").waitFor();
    // A default rule through the group template applies to every group; none carries the template yet.
    await page.locator("[data-test=coverage-numbers]").getByText(/覆盖率（0 \/ [1-9]\d* 个群使用最新素材）/).waitFor();
    await page.locator("[data-test=coverage-chart] canvas").waitFor();
    await page.locator("[data-test=coverage-gaps] tbody tr").first().getByText("未使用素材").waitFor();
    // The template reaches WeCom in the background; once synced, an owner's confirmation closes a gap.
    let synced = false;
    for (let attempt = 0; attempt < 30 && !synced; attempt++) {
      await page.reload();
      synced = await page.locator("[data-test=welcome-rules]").getByText("已同步").waitFor({ timeout: 2_000 }).then(() => true, () => false);
    }
    assert.ok(synced, "the rule's template was written to WeCom");
    await page.locator("[data-test=coverage-gaps] tbody tr").first().getByRole("button", { name: "群主已应用" }).click();
    await page.locator("[data-test=coverage-numbers]").getByText(/覆盖率（1 \/ [1-9]\d* 个群使用最新素材）/).waitFor();
    await page.screenshot({ path: path.join(screenshots, "32-welcome-coverage.png"), fullPage: true });
  } finally {
    await page.context().close();
  }
});

test("the admin edits the corp and rotates the callback keys, shown once", async ({ browser, base, dataDir }) => {
  const page = await pageWithToken(browser, token(dataDir, "admin"));
  try {
    await page.goto(`${base}/settings`);
    await page.click("[data-test=edit-corp]");
    await page.fill("input[data-test=corp-name]", "e2e 演示企业");
    await page.click("[data-test=corp-save]");
    await page.locator(".el-message-box").getByText("企业名称").waitFor();
    await page.locator(".el-message-box").getByRole("button", { name: "保存" }).click();
    await page.getByText("e2e 演示企业").waitFor();
    await page.click("[data-test=rotate-keys]");
    await page.locator(".el-message-box").getByText("旧的不再被接受").waitFor();
    await page.locator(".el-message-box").getByRole("button", { name: "生成" }).click();
    const newToken = (await page.locator("[data-test=new-token] code").textContent()).trim();
    const newKey = (await page.locator("[data-test=new-aes-key] code").textContent()).trim();
    assert.match(newToken, /^[A-Za-z0-9]{32}$/);
    assert.match(newKey, /^[A-Za-z0-9]{43}$/);
    await page.screenshot({ path: path.join(screenshots, "33-settings-rotated-keys.png"), fullPage: true });
    await page.reload();
    await page.getByText("e2e 演示企业").waitFor();
    assert.equal(await page.locator("[data-test=new-keys]").count(), 0, "the keys are shown once");
    assert.ok(!(await page.content()).includes(newToken));
  } finally {
    await page.context().close();
  }
});

/** The demo staff member who never confirms group-message tasks in the second scrm of the reminder test. */
const SILENT_OWNER = "caomin0001";

test("an owner who never confirms shows as unconfirmed, and is reminded", async ({ browser }) => {
  const silentDir = mkdtempSync(path.join(tmpdir(), "scrm-e2e-silent-"));
  const silentPort = await freePort();
  const silentBase = `http://127.0.0.1:${silentPort}`;
  const silent = await startScrm(silentDir, silentPort, { SCRM_WECOM_DEMO_NEVER_CONFIRM: SILENT_OWNER });
  const page = await pageWithToken(browser, token(silentDir, "operator"));
  try {
    const operator = token(silentDir, "operator");
    // The demo corp syncs at start: wait for the groups of the silent owner and of another owner.
    let mine = [];
    let others = [];
    for (let attempt = 0; attempt < 60 && !(mine.length && others.length); attempt++) {
      const { groups } = await getJson(silentBase, operator, "/api/social/groups?pageSize=50");
      mine = groups.filter((group) => group.owner === SILENT_OWNER);
      others = groups.filter((group) => group.owner !== SILENT_OWNER);
      if (!(mine.length && others.length)) await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    assert.ok(mine.length && others.length, `the demo corp has groups of ${SILENT_OWNER} and of another owner`);
    await page.goto(`${silentBase}/broadcasts/new?groups=${[mine[0].id, others[0].id].join(",")}`);
    await page.locator("[data-test=compose-form] .el-select .el-tag").nth(1).waitFor();
    await page.fill("[data-test=broadcast-content]", "周末会员日：全场 8 折");
    await page.click("[data-test=send-now]");
    await page.click("[data-test=create-broadcast]");
    await page.waitForURL(/\/broadcasts\/\d+$/);
    // The other owner confirms after 5 s; the silent one never does.
    await page.locator("[data-test=group-results] tbody tr", { hasText: "已送达" }).waitFor({ timeout: 60_000 });
    const silentRow = page.locator("[data-test=group-results] tbody tr", { hasText: mine[0].name });
    await silentRow.getByText("待群主确认").waitFor();
    await page.locator("[data-test=broadcast-state]").getByText("等待群主确认").waitFor();
    const owner = page.locator("[data-test=unconfirmed-owners] tbody tr").first();
    await owner.getByText("0 次").waitFor();
    await page.screenshot({ path: path.join(screenshots, "34-broadcast-unconfirmed.png"), fullPage: true });
    await owner.getByRole("button", { name: "提醒确认" }).click();
    await page.getByText("已提醒 1 位群主").waitFor();
    await owner.getByText("1 次").waitFor();
    await page.screenshot({ path: path.join(screenshots, "35-broadcast-reminded.png"), fullPage: true });
  } finally {
    await page.context().close();
    silent.kill("SIGTERM");
    await new Promise((resolve) => silent.once("exit", resolve));
    rmSync(silentDir, { recursive: true, force: true });
  }
});

mkdirSync(screenshots, { recursive: true });
const dataDir = mkdtempSync(path.join(tmpdir(), "scrm-e2e-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const scrm = await startScrm(dataDir, port);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const context = await browser.newContext({ locale: "zh-CN", timezoneId: "Asia/Shanghai" });
const page = await context.newPage();
page.setDefaultTimeout(20_000);
let failed = 0;
for (const { name, body } of tests) {
  try {
    await body({ page, browser, base, dataDir });
    console.log(`ok   ${name}`);
  } catch (error) {
    failed++;
    console.error(`FAIL ${name}\n${error.stack ?? error}`);
    await page.screenshot({ path: path.join(screenshots, `failed-${tests.indexOf(tests.find((t) => t.name === name))}.png`) }).catch(() => {});
  }
}
await browser.close();
scrm.kill("SIGTERM");
await new Promise((resolve) => scrm.once("exit", resolve));
rmSync(dataDir, { recursive: true, force: true });
console.log(`${tests.length - failed} passed, ${failed} failed; screenshots in ${screenshots}`);
process.exit(failed ? 1 : 0);
