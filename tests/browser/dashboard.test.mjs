// The dashboard in a real browser: playwright-core driving Debian's Chromium against a real
// `atrium server` (fresh data directory, free port). Run by scripts/browser-test.
//
// DASHBOARD_TEST_BIN: the atrium binary; CHROMIUM: the browser; SCREENSHOTS: where pages are
// saved (the server's log goes beside them, as server.log).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import http from "node:http";
import { chromium } from "playwright-core";

const BIN = process.env.DASHBOARD_TEST_BIN;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SCREENSHOTS = process.env.SCREENSHOTS || "target/screenshots";
const ADMIN = { email: "admin@example.com", username: "admin", password: "Correct-Horse-Battery-9!" };

let server;
let base;
let dataDir;
let browser;
let adminToken;
let org;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function waitUntilUp(url) {
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(url + "/healthz");
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server did not come up");
}

/** The API as the admin (header token: no cookie, no CSRF question). */
async function api(method, path, body, headers = {}) {
  const r = await fetch(base + "/api/v2" + path, {
    method,
    headers: { "Coder-Session-Token": adminToken, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: r.status, body: json };
}

async function createUser(username, password) {
  const r = await api("POST", "/users", { email: `${username}@example.com`, username, password });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

async function user(username) {
  const r = await api("GET", "/users/" + username);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** A template imported with the echo provisioner in the default organization. */
async function createTemplate(name) {
  const dir = mkdtempSync(join(tmpdir(), "atrium-tpl-"));
  writeFileSync(join(dir, "main.tf"), 'resource "terraform_data" "x" {}\n');
  const tar = execFileSync("tar", ["-C", dir, "-cf", "-", "main.tf"]);
  rmSync(dir, { recursive: true });
  const file = await api("POST", "/files", new Uint8Array(tar), { "Content-Type": "application/x-tar" });
  assert.equal(file.status, 201, JSON.stringify(file.body));
  const version = await api("POST", `/organizations/${org}/templateversions`, {
    storage_method: "file", file_id: file.body.hash, provisioner: "echo",
  });
  assert.equal(version.status, 201, JSON.stringify(version.body));
  for (let i = 0; i < 100; i++) {
    const v = await api("GET", `/templateversions/${version.body.id}`);
    if (v.body.job.status === "succeeded") break;
    assert.ok(!["failed", "canceled"].includes(v.body.job.status), JSON.stringify(v.body));
    await new Promise((r) => setTimeout(r, 100));
  }
  const t = await api("POST", `/organizations/${org}/templates`, { name, template_version_id: version.body.id });
  assert.equal(t.status, 201, JSON.stringify(t.body));
  return t.body;
}

async function newPage(width = 1280) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  return context.newPage();
}

async function signIn(page, email, password) {
  await page.goto(base + "/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function shot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, name + ".png"), fullPage: true });
}

/** The page fits its viewport: nothing but scrollable tables is wider than the screen. */
async function assertFits(page) {
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  assert.ok(scroll <= inner + 1, `page is ${scroll}px wide in a ${inner}px viewport`);
}

before(async () => {
  assert.ok(BIN, "DASHBOARD_TEST_BIN must name the atrium binary");
  mkdirSync(SCREENSHOTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), "atrium-browser-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const log = openSync(join(SCREENSHOTS, "server.log"), "w");
  server = spawn(BIN, ["server", "--address", `127.0.0.1:${port}`, "--data-dir", dataDir], {
    stdio: ["ignore", log, log],
  });
  await waitUntilUp(base);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run",
    ],
    // launch() always starts Chromium on a fresh temporary profile (its own --user-data-dir;
    // it refuses one passed in args), removed on close.
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("first-run setup creates the owner and signs them in", async () => {
  const page = await newPage();
  await page.goto(base + "/");
  await page.waitForURL(/\/setup$/);
  await shot(page, "setup");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/workspaces$/);
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const name of ["Workspaces", "Templates", "Users", "Organizations", "Groups", "Audit"]) {
    assert.equal(await nav.getByRole("link", { name, exact: true }).count(), 1, name);
  }
  const cookie = (await page.context().cookies()).find((c) => c.name === "coder_session_token");
  assert.ok(cookie?.httpOnly, "the session cookie is HttpOnly");
  assert.equal(cookie.sameSite, "Lax");
  await shot(page, "workspaces-owner");
  for (const name of ["Templates", "Organizations", "Groups", "Audit"]) {
    await nav.getByRole("link", { name, exact: true }).click();
    await page.getByRole("heading", { level: 1, name }).waitFor();
    await shot(page, name.toLowerCase());
  }

  const login = await fetch(base + "/api/v2/users/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
  });
  adminToken = (await login.json()).session_token;
  const orgs = await api("GET", "/organizations");
  org = orgs.body.find((o) => o.is_default).id;
  await page.context().close();
});

test("seed 000: the creation ban assigned on the user record; the banned member stops and starts", async () => {
  const admin = await newPage();
  await signIn(admin, ADMIN.email, ADMIN.password);
  await admin.waitForURL(/\/workspaces$/);
  await admin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }).click();
  await admin.waitForURL(/\/users$/);
  await admin.getByRole("link", { name: "Create user" }).click();
  await admin.getByLabel("Email").fill("alice@example.com");
  await admin.getByLabel("Username").fill("alice");
  await admin.getByLabel("Password").fill("Alice-Secret-Pass-1!");
  await admin.getByRole("button", { name: "Create user" }).click();
  await admin.waitForURL(/\/users\/alice$/);
  await shot(admin, "user-record");

  const orgRoles = admin.locator("form", { has: admin.getByRole("group", { name: /^Roles in / }) });
  await orgRoles.getByLabel("Organization Workspace Creation Ban").check();
  await orgRoles.getByRole("button", { name: "Save" }).click();
  await admin.getByText("Organization roles saved.").waitFor();
  assert.ok(await admin.getByLabel("Organization Workspace Creation Ban").isChecked());
  const member = await api("GET", `/organizations/${org}/members/alice`);
  assert.ok(member.body.roles.some((r) => r.name === "organization-workspace-creation-ban"), JSON.stringify(member.body));

  const template = await createTemplate("basic");
  const ws = await api("POST", `/organizations/${org}/members/alice/workspaces`, { template_id: template.id, name: "managed" });
  assert.equal(ws.status, 201, JSON.stringify(ws.body));

  const alice = await newPage();
  await signIn(alice, "alice@example.com", "Alice-Secret-Pass-1!");
  await alice.waitForURL(/\/workspaces$/);
  const aliceNav = alice.getByRole("navigation", { name: "Main" });
  assert.equal(await aliceNav.getByRole("link", { name: "Users" }).count(), 0, "a member reads no other users");
  assert.equal(await aliceNav.getByRole("link", { name: "Audit" }).count(), 0, "a member reads no audit rows");
  assert.equal(await alice.getByRole("link", { name: "New workspace" }).count(), 0, "no New workspace when banned");
  await shot(alice, "workspaces-banned-member");
  await alice.getByRole("link", { name: "managed", exact: true }).click();
  await alice.waitForURL(/\/workspaces\/alice\/managed$/);
  // The first build finishes; then Stop is offered, Delete never is (and says why).
  await alice.getByRole("button", { name: "Stop" }).waitFor({ timeout: 20000 });
  assert.equal(await alice.getByRole("button", { name: "Delete" }).count(), 0, "no Delete when banned");
  await alice.getByText("Why? (no Delete)").click();
  await alice.getByText("organization-workspace-creation-ban").first().waitFor();
  await shot(alice, "workspace-banned-member");
  await alice.getByRole("button", { name: "Stop" }).click();
  await alice.getByRole("button", { name: "Start" }).waitFor({ timeout: 20000 });
  assert.equal(await alice.getByText("stopped", { exact: true }).count(), 1);
  await alice.getByRole("button", { name: "Start" }).click();
  await alice.getByRole("button", { name: "Stop" }).waitFor({ timeout: 20000 });
  assert.equal(await alice.getByText("running", { exact: true }).count(), 1);

  // The owner, unbanned, sees New workspace offering the template.
  await admin.goto(base + "/workspaces");
  await admin.getByRole("link", { name: "New workspace" }).click();
  assert.equal(await admin.getByRole("option", { name: /basic/ }).count(), 1);
  await admin.context().close();
  await alice.context().close();
});

test("a suspended user's open session is signed out on the next click", async () => {
  await createUser("bob", "Bob-Secret-Pass-1!");
  const bob = await newPage(360);
  await bob.goto(base + "/login");
  await bob.getByLabel("Email").fill("bob@example.com");
  await bob.getByLabel("Password").fill("Bob-Secret-Pass-1!");
  await bob.getByLabel("Password").press("Enter");
  await bob.waitForURL(/\/workspaces$/);
  await assertFits(bob);
  await shot(bob, "workspaces-360");

  const admin = await newPage(360);
  await signIn(admin, ADMIN.email, ADMIN.password);
  await admin.goto(base + "/users");
  await assertFits(admin);
  await shot(admin, "users-360");
  await admin.goto(base + "/users/bob");
  // By keyboard: the menu button opens the dialog, whose first button (the verb) has focus.
  await admin.getByRole("button", { name: "Suspend" }).focus();
  await admin.keyboard.press("Enter");
  const dialog = admin.getByRole("dialog", { name: "Suspend bob?" });
  await dialog.waitFor();
  await admin.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  await admin.getByRole("button", { name: "Suspend" }).focus();
  await admin.keyboard.press("Enter");
  assert.equal(await dialog.getByRole("button", { name: "Suspend" }).evaluate((b) => b === document.activeElement), true);
  await admin.keyboard.press("Enter");
  await admin.getByText("bob is suspended.").waitFor();
  assert.equal((await user("bob")).status, "suspended");

  await bob.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Workspaces" }).click();
  await bob.waitForURL(/\/login\?/);
  await bob.getByText(/not active/).waitFor();
  await admin.context().close();
  await bob.context().close();
});

test("a password an admin reset must be changed right after signing in", async () => {
  await createUser("carol", "Carol-Secret-Pass-1!");
  const admin = await newPage();
  await signIn(admin, ADMIN.email, ADMIN.password);
  await admin.goto(base + "/users/carol");
  await admin.getByRole("button", { name: "Reset password" }).click();
  await admin.getByRole("dialog").getByRole("button", { name: "Reset password" }).click();
  const temporary = await admin.getByLabel("Temporary password").inputValue();
  assert.ok(temporary.length >= 16, temporary);
  await shot(admin, "user-reset-password");

  const carol = await newPage();
  await signIn(carol, "carol@example.com", temporary);
  await carol.waitForURL(/\/password\/change$/);
  await carol.getByText("An administrator reset your password").waitFor();
  await carol.goto(base + "/workspaces");
  await carol.waitForURL(/\/password\/change$/);
  await carol.getByLabel("Temporary password").fill(temporary);
  await carol.getByLabel("New password").fill("Carol-Own-Choice-2!");
  await carol.getByRole("button", { name: "Save" }).click();
  await carol.waitForURL(/\/workspaces$/);
  await carol.getByRole("button", { name: "Sign out" }).click();
  await carol.waitForURL(/\/login$/);
  await signIn(carol, "carol@example.com", "Carol-Own-Choice-2!");
  await carol.waitForURL(/\/workspaces$/);
  await admin.context().close();
  await carol.context().close();
});

test("a cross-site form post carrying the session cookie is refused", async () => {
  await createUser("dave", "Dave-Secret-Pass-1!");
  // Another origin on the same host: same-site, so SameSite=Lax still sends the cookie; only
  // the server's Origin check stands in the way.
  const evil = http.createServer((_, res) => {
    res.setHeader("Content-Type", "text/html");
    res.end(`<form id="f" method="post" action="${base}/users/dave/suspend"></form>
             <script>document.getElementById("f").submit()</script>`);
  });
  await new Promise((r) => evil.listen(0, "127.0.0.1", r));
  const admin = await newPage();
  await signIn(admin, ADMIN.email, ADMIN.password);
  await admin.waitForURL(/\/workspaces$/);
  const refused = admin.waitForResponse((r) => r.url() === `${base}/users/dave/suspend`);
  await admin.goto(`http://127.0.0.1:${evil.address().port}/`);
  const response = await refused;
  assert.equal(response.status(), 403);
  assert.match(await response.text(), /Cross-site request refused/);
  assert.notEqual((await user("dave")).status, "suspended");
  evil.close();
  await admin.context().close();
});

test("the CLI sign-in page shows a session token that works", async () => {
  const page = await newPage();
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto(base + "/cli-auth");
  const token = await page.getByLabel("Session token").inputValue();
  const me = await fetch(base + "/api/v2/users/me", { headers: { "Coder-Session-Token": token } });
  assert.equal(me.status, 200);
  assert.equal((await me.json()).username, "admin");
  await page.context().close();
});
