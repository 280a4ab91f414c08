// The dashboard in a real browser: the first-run story, the seed-000 ban, suspension,
// forced password change, cross-site posts and /cli-auth. Shared setup: harness.mjs.

import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import {
  ADMIN, api, assertFits, base, createTemplate, createUser, newPage, org, shot, signIn,
  startDashboard, useOwner, user,
} from "./harness.mjs";

startDashboard(import.meta.url);

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

  await useOwner();
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
