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

async function startScrm(dataDir, port) {
  const env = { ...process.env, SCRM_ADMIN_PASSWORD: password, SCRM_SERVER_STATIC_DIR: path.resolve(here, "../dist"), RUST_LOG: "warn" };
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
  await page.getByText("页面不显示明文").first().waitFor();
  await page.click("[data-test=check-connection]");
  await page.locator("[data-test=connection-result]").getByText("连接正常").waitFor({ timeout: 20_000 });
  await page.screenshot({ path: path.join(screenshots, "08-settings.png") });
});

test("the org structure page maps a department to a store and searches the staff", async ({ page, base }) => {
  await page.goto(`${base}/org/structure`);
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
    await body({ page, base, dataDir });
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
