// What every browser test file shares: a real `atrium server` on a free port with a fresh data
// directory, Debian's Chromium through playwright-core, and small API and page helpers.
//
// DASHBOARD_TEST_BIN: the atrium binary; CHROMIUM: the browser; SCREENSHOTS: where pages are
// saved (each file's server log goes beside them, as server-<file>.log).
//
// A test file calls `startDashboard(import.meta.url)` once at its top level; the exported
// `base`, `browser`, `adminToken` and `org` are live bindings filled in by then.

import { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

const BIN = process.env.DASHBOARD_TEST_BIN;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SCREENSHOTS = process.env.SCREENSHOTS || "target/screenshots";
export const ADMIN = { email: "admin@example.com", username: "admin", password: "Correct-Horse-Battery-9!" };

let server;
let dataDir;
export let base;
export let browser;
export let adminToken;
export let org;

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
export async function api(method, path, body, headers = {}) {
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

export async function createUser(username, password) {
  const r = await api("POST", "/users", { email: `${username}@example.com`, username, password });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

export async function user(username) {
  const r = await api("GET", "/users/" + username);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** A template imported with the echo provisioner in the default organization. */
export async function createTemplate(name) {
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

export async function newPage(width = 1280) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  return context.newPage();
}

export async function signIn(page, email, password) {
  await page.goto(base + "/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, name + ".png"), fullPage: true });
}

/** The page fits its viewport: nothing but scrollable tables is wider than the screen. */
export async function assertFits(page) {
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  assert.ok(scroll <= inner + 1, `page is ${scroll}px wide in a ${inner}px viewport`);
}

export function startDashboard(testFile) {
  before(async () => {
    assert.ok(BIN, "DASHBOARD_TEST_BIN must name the atrium binary");
    mkdirSync(SCREENSHOTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), "atrium-browser-"));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const log = openSync(join(SCREENSHOTS, `server-${basename(fileURLToPath(testFile), ".test.mjs")}.log`), "w");
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
}

/** Records the owner's token and the default organization (after setup, however it was done). */
export async function useOwner(email = ADMIN.email, password = ADMIN.password) {
  const login = await fetch(base + "/api/v2/users/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  assert.equal(login.status, 201);
  adminToken = (await login.json()).session_token;
  const orgs = await api("GET", "/organizations");
  org = orgs.body.find((o) => o.is_default).id;
}

/** First-run setup through the API (for files whose story does not start at /setup). */
export async function setupOwner() {
  const r = await fetch(base + "/api/v2/users/first", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: ADMIN.email, username: ADMIN.username, password: ADMIN.password }),
  });
  assert.equal(r.status, 201, await r.text());
  await useOwner();
}
