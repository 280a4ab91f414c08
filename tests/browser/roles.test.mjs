// Organizations and roles in a real browser: an organization created, made the default and
// switched between, a member added; an admin creating a custom role in the permission editor
// and assigning it from the role's page, after which its holder can do what it grants; and an
// owner defining the restriction role "no-workspace-deletes". Shared setup: harness.mjs.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ADMIN, api, assertFits, base, createUser, newPage, org, setupOwner, shot, signIn, startDashboard,
} from "./harness.mjs";

startDashboard(import.meta.url);

const BOB = { email: "bob@example.com", password: "Bob-Secret-Pass-1!" };

test("organizations: create, add a member, make default, switch back", async () => {
  await setupOwner();
  await createUser("bob", BOB.password);
  const page = await newPage();
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.waitForURL(/\/workspaces$/);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Organizations" }).click();
  await page.getByLabel("Name", { exact: true }).fill("research");
  await page.getByLabel("Display name").fill("Research");
  await page.getByRole("button", { name: "Create organization" }).click();
  await page.waitForURL(/\/organizations\/research$/);
  await page.getByRole("heading", { level: 1, name: "Research" }).waitFor();

  await page.getByLabel("Username").fill("bob");
  await page.getByRole("button", { name: "Add member" }).click();
  await page.getByText("bob is now a member.").waitFor();
  assert.equal(await page.getByRole("link", { name: "bob", exact: true }).count(), 1);
  await shot(page, "organization");

  await page.getByRole("button", { name: "Make default" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Make default" }).click();
  await page.getByText("Research is now the default organization.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Make default" }).count(), 0);

  // The switcher moves to the other organization, which becomes the default again.
  await page.getByLabel("Organization", { exact: true }).selectOption("coder");
  await page.getByRole("button", { name: "Switch" }).click();
  await page.waitForURL(/\/organizations\/coder$/);
  await page.getByRole("button", { name: "Make default" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Make default" }).click();
  await page.getByText("is now the default organization.").waitFor();
  const orgs = await api("GET", "/organizations");
  assert.equal(orgs.body.find((o) => o.is_default).id, org);

  const narrow = await newPage(360);
  await signIn(narrow, ADMIN.email, ADMIN.password);
  await narrow.waitForURL(/\/workspaces$/);
  await narrow.goto(base + "/organizations/research");
  await assertFits(narrow);
  await shot(narrow, "organization-360");
  await narrow.context().close();
  await page.context().close();
});

test("a custom role created in the editor and assigned from its page grants what it says", async () => {
  const admin = await newPage();
  await signIn(admin, ADMIN.email, ADMIN.password);
  await admin.waitForURL(/\/workspaces$/);
  await admin.goto(base + "/organizations/coder");
  await admin.getByRole("link", { name: "Roles", exact: true }).click();
  await admin.waitForURL(/\/organizations\/coder\/roles$/);
  await shot(admin, "roles");
  await admin.getByRole("link", { name: "Create custom role" }).click();
  await admin.getByLabel("Name", { exact: true }).fill("auditors");
  await admin.getByLabel("Display name").fill("Auditors");
  await admin.getByRole("group", { name: "audit_log", exact: true }).getByLabel("read", { exact: true }).check();
  await shot(admin, "role-editor");
  await admin.getByRole("button", { name: "Create custom role" }).click();
  await admin.waitForURL(/\/organizations\/coder\/roles\/auditors$/);
  await admin.getByRole("heading", { level: 1, name: /Auditors/ }).waitFor();
  assert.ok(await admin.getByRole("group", { name: "audit_log", exact: true }).getByLabel("read", { exact: true }).isChecked());

  // Before: bob reads no audit rows.
  const bob = await newPage();
  await signIn(bob, BOB.email, BOB.password);
  await bob.waitForURL(/\/workspaces$/);
  const bobNav = bob.getByRole("navigation", { name: "Main" });
  assert.equal(await bobNav.getByRole("link", { name: "Audit" }).count(), 0);

  await admin.getByLabel("Username").fill("bob");
  await admin.getByRole("button", { name: "Assign" }).click();
  await admin.getByText("bob now holds auditors.").waitFor();
  assert.equal(await admin.getByRole("list", { name: "Holders" }).getByText("bob", { exact: true }).count(), 1);
  await shot(admin, "role-page");
  const member = await api("GET", `/organizations/${org}/members/bob`);
  assert.ok(member.body.roles.some((r) => r.name === "auditors"), JSON.stringify(member.body));

  // After: the holder reads the audit log.
  await bob.reload();
  await bobNav.getByRole("link", { name: "Audit" }).click();
  await bob.getByRole("heading", { level: 1, name: "Audit" }).waitFor();
  await shot(bob, "audit-custom-role-holder");

  const narrow = await newPage(360);
  await signIn(narrow, ADMIN.email, ADMIN.password);
  await narrow.waitForURL(/\/workspaces$/);
  await narrow.goto(base + "/organizations/coder/roles/auditors");
  await assertFits(narrow);
  await narrow.goto(base + "/organizations/coder/roles/new");
  await assertFits(narrow);
  await shot(narrow, "role-editor-360");
  await narrow.context().close();
  await bob.context().close();
  await admin.context().close();
});

test("an owner defines the restriction role no-workspace-deletes", async () => {
  const owner = await newPage();
  await signIn(owner, ADMIN.email, ADMIN.password);
  await owner.waitForURL(/\/workspaces$/);
  await owner.goto(base + "/organizations/coder/roles/new");
  await owner.getByLabel("Name", { exact: true }).fill("no-workspace-deletes");
  await owner.getByLabel("Display name").fill("No workspace deletes");
  await owner.getByLabel(/^Restriction role/).check();
  await owner.getByRole("group", { name: "workspace", exact: true }).getByLabel("delete", { exact: true }).check();
  await owner.getByRole("button", { name: "Create custom role" }).click();
  await owner.waitForURL(/\/roles\/no-workspace-deletes$/);
  await owner.getByText("restriction", { exact: true }).first().waitFor();
  await shot(owner, "restriction-role");
  const roles = await api("GET", `/organizations/${org}/members/roles`);
  const stored = roles.body.find((r) => r.name === "no-workspace-deletes");
  assert.equal(stored.restriction, true);
  assert.deepEqual(stored.organization_permissions, [{ negate: true, resource_type: "workspace", action: "delete" }]);

  // Deleting asks first; the dialog's button repeats the verb.
  await owner.getByRole("button", { name: "Delete" }).click();
  await owner.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await owner.waitForURL(/\/organizations\/coder\/roles$/);
  const after = await api("GET", `/organizations/${org}/members/roles`);
  assert.ok(!after.body.some((r) => r.name === "no-workspace-deletes"));
  await owner.context().close();
});
