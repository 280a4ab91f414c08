// Groups, template pages and the Account page in a real browser: a template restricted to a
// group is invisible to a member outside it until they are added, a version is uploaded and
// promoted, and a token is deleted from the Account page. Shared setup: harness.mjs.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ADMIN, api, assertFits, base, createTemplate, createUser, newPage, setupOwner, shot, signIn,
  startDashboard,
} from "./harness.mjs";

startDashboard(import.meta.url);

const GRETA = { email: "greta@example.com", password: "Greta-Secret-Pass-3!" };

/** A one-file module as a tar archive. */
function moduleTar(comment) {
  const dir = mkdtempSync(join(tmpdir(), "atrium-tpl-"));
  writeFileSync(join(dir, "main.tf"), `resource "terraform_data" "x" {}\n# ${comment}\n`);
  const tar = execFileSync("tar", ["-C", dir, "-cf", "-", "main.tf"]);
  rmSync(dir, { recursive: true });
  return tar;
}

/** The template names greta is offered in New workspace. */
async function offered(page) {
  await page.goto(base + "/workspaces/new");
  const select = page.getByLabel("Template");
  if ((await select.count()) === 0) return [];
  return (await select.locator("option").allTextContents()).map((t) => t.trim());
}

test("a group-restricted template is invisible outside the group until Add member", async () => {
  await setupOwner();
  const template = await createTemplate("restricted");
  await createUser("greta", GRETA.password);

  const admin = await newPage();
  await signIn(admin, ADMIN.email, ADMIN.password);
  await admin.waitForURL(/\/workspaces$/);

  // Create group.
  await admin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Groups" }).click();
  await admin.getByLabel("Name", { exact: true }).fill("crew");
  await admin.getByLabel("Display name").fill("Crew");
  await admin.getByRole("button", { name: "Create group" }).click();
  await admin.getByRole("heading", { level: 1, name: /Crew/ }).waitFor();
  await shot(admin, "group");

  // The template's permissions: Everyone out, the group in.
  await admin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Templates" }).click();
  await admin.getByRole("link", { name: "restricted", exact: true }).click();
  await admin.waitForURL(new RegExp(`/templates/${template.id}$`));
  await admin.getByRole("link", { name: "Permissions" }).click();
  await admin.getByLabel("Role of Everyone").selectOption("remove");
  await admin.getByLabel("Group or user", { exact: true }).selectOption({ label: "Crew" });
  await admin.getByLabel("Role", { exact: true }).selectOption("use");
  await admin.getByRole("button", { name: "Save" }).click();
  await admin.getByText("Permissions saved.").waitFor();
  assert.equal(await admin.getByLabel("Role of Everyone").count(), 0);
  assert.equal(await admin.getByLabel("Role of Crew").inputValue(), "use");
  await shot(admin, "template-permissions");
  const acl = await api("GET", `/templates/${template.id}/acl`);
  assert.deepEqual(acl.body.group.map((g) => g.name), ["crew"], JSON.stringify(acl.body));

  // Greta, outside the group: neither New workspace nor Templates shows it.
  const greta = await newPage();
  await signIn(greta, GRETA.email, GRETA.password);
  await greta.waitForURL(/\/workspaces$/);
  assert.ok(!(await offered(greta)).some((t) => t.includes("restricted")), "not offered outside the group");
  await greta.goto(base + "/templates");
  assert.equal(await greta.getByRole("link", { name: "restricted", exact: true }).count(), 0);
  await shot(greta, "templates-outside-group");

  // Add member.
  await admin.goto(base + "/groups");
  await admin.getByRole("link", { name: "Crew", exact: true }).click();
  await admin.getByLabel("User", { exact: true }).selectOption({ label: "greta" });
  await admin.getByRole("button", { name: "Add member" }).click();
  await admin.getByText("Member added.").waitFor();
  assert.equal(await admin.getByRole("link", { name: "greta", exact: true }).count(), 1);

  assert.ok((await offered(greta)).some((t) => t.includes("restricted")), "offered once in the group");
  await greta.goto(base + "/templates");
  await greta.getByRole("link", { name: "restricted", exact: true }).waitFor();
  // Greta may use it, not change it: no Upload version, and why.
  await greta.getByRole("link", { name: "restricted", exact: true }).click();
  assert.equal(await greta.getByRole("button", { name: "Upload version" }).count(), 0);
  await greta.getByText("(no Upload version)").waitFor();

  // The small screen.
  const small = await newPage(360);
  await signIn(small, ADMIN.email, ADMIN.password);
  await small.waitForURL(/\/workspaces$/);
  for (const path of ["/groups", `/templates/${template.id}`, `/templates/${template.id}/permissions`]) {
    await small.goto(base + path);
    await assertFits(small);
  }
  await shot(small, "template-permissions-360");

  // Delete, confirmed in its dialog.
  await admin.goto(base + "/groups");
  await admin.getByLabel("Name", { exact: true }).fill("short-lived");
  await admin.getByRole("button", { name: "Create group" }).click();
  await admin.getByRole("heading", { level: 1, name: "short-lived" }).waitFor();
  await admin.getByRole("button", { name: "Delete" }).click();
  const dialog = admin.getByRole("dialog");
  await dialog.getByRole("button", { name: "Delete" }).click();
  await admin.waitForURL(/\/groups$/);
  assert.equal(await admin.getByRole("link", { name: "short-lived" }).count(), 0);
  for (const p of [admin, greta, small]) await p.context().close();
});

test("a version is uploaded from an archive and promoted", async () => {
  const template = await createTemplate("promoted");
  const admin = await newPage();
  await signIn(admin, ADMIN.email, ADMIN.password);
  await admin.waitForURL(/\/workspaces$/);
  await admin.goto(base + `/templates/${template.id}`);
  await admin.getByLabel("Archive (tar or zip)").setInputFiles({
    name: "module.tar", mimeType: "application/x-tar", buffer: moduleTar("second"),
  });
  await admin.getByLabel(/^Version name/).fill("second");
  await admin.getByRole("button", { name: "Upload version" }).click();
  await admin.waitForURL(new RegExp(`/templates/${template.id}/versions/`));
  // The import log follows live; the page reloads when the import ends.
  await admin.locator("#status", { hasText: "succeeded" }).waitFor({ timeout: 20000 });
  await shot(admin, "template-version");
  await admin.getByRole("button", { name: "Promote" }).click();
  await admin.getByText("Version promoted.").waitFor();
  await shot(admin, "template");
  const t = await api("GET", `/templates/${template.id}`);
  const versions = await api("GET", `/templates/${template.id}/versions`);
  const second = versions.body.find((v) => v.name === "second");
  assert.equal(t.body.active_version_id, second.id);
  const row = admin.getByRole("row", { name: /second/ });
  await row.getByText("active").waitFor();
  assert.equal(await row.getByRole("button", { name: "Promote" }).count(), 0);
  await admin.context().close();
});

test("a token is created and deleted on the Account page", async () => {
  const page = await newPage();
  await signIn(page, GRETA.email, GRETA.password);
  await page.waitForURL(/\/workspaces$/);
  await page.getByRole("link", { name: "Account" }).click();
  await page.waitForURL(/\/account$/);
  await page.getByLabel("Token name").fill("laptop");
  await page.getByRole("button", { name: "Create token" }).click();
  const token = await page.getByLabel("New token").inputValue();
  const me = () => fetch(base + "/api/v2/users/me", { headers: { "Coder-Session-Token": token } });
  assert.equal((await me()).status, 200);
  await shot(page, "account");

  const row = page.getByRole("row", { name: /laptop/ });
  await row.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByText("Token deleted.").waitFor();
  assert.equal(await page.getByRole("row", { name: /laptop/ }).count(), 0);
  assert.equal((await me()).status, 401);

  const small = await newPage(360);
  await signIn(small, GRETA.email, GRETA.password);
  await small.waitForURL(/\/workspaces$/);
  await small.goto(base + "/account");
  await assertFits(small);
  for (const p of [page, small]) await p.context().close();
});
