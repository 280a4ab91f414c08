// IdP sync settings in a real browser: the default organization's group sync from the server's
// --oidc-group-* flags shown as such, then saved from the page (the database's settings win);
// an organization user admin's role mapping to organization-admin refused on the page, and no
// organization sync link for them. Shared setup: harness.mjs.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN, api, base, createUser, newPage, org, setupOwner, shot, signIn, startDashboard } from "./harness.mjs";

// The server this file starts inherits these (each test file runs in its own process).
process.env.ATRIUM_OIDC_GROUP_FIELD = "groups";
process.env.ATRIUM_OIDC_GROUP_MAPPING = '{"idp-ops":"ops"}';
startDashboard(import.meta.url);

const CAROL = { email: "carol@example.com", password: "Carol-Secret-Pass-1!" };

test("sync settings: flags marked, saved from the page, a role above the editor refused", async () => {
  await setupOwner();
  await createUser("carol", CAROL.password);
  const roles = await api("PUT", `/organizations/${org}/members/carol/roles`, { roles: ["organization-user-admin"] });
  assert.equal(roles.status, 200, JSON.stringify(roles.body));

  const admin = await newPage();
  await signIn(admin, ADMIN.email, ADMIN.password);
  await admin.waitForURL(/\/workspaces$/);
  await admin.goto(base + "/organizations/coder");
  await admin.getByRole("link", { name: "IdP sync", exact: true }).click();
  await admin.waitForURL(/\/organizations\/coder\/idp-sync$/);
  await admin.getByText("legacy, from the server flags").waitFor();
  await admin.getByText("(by name, from --oidc-group-mapping)").waitFor();
  await shot(admin, "idp-sync");
  await admin.getByLabel("Claim field (empty turns group sync off)").fill("teams");
  await admin.getByLabel("Create missing groups").check();
  await admin.getByRole("button", { name: "Save group sync" }).click();
  await admin.getByText("Group sync saved.").waitFor();
  assert.equal(await admin.getByText("legacy, from the server flags").count(), 0);
  const groups = await api("GET", `/organizations/${org}/settings/idpsync/groups`);
  assert.equal(groups.body.field, "teams");
  assert.equal(groups.body.auto_create_missing_groups, true);
  await admin.context().close();

  const carol = await newPage();
  await signIn(carol, CAROL.email, CAROL.password);
  await carol.waitForURL(/\/workspaces$/);
  await carol.goto(base + "/organizations");
  assert.equal(await carol.getByRole("link", { name: "Organization sync" }).count(), 0);
  await carol.goto(base + "/organizations/coder/idp-sync");
  await carol.getByLabel("Claim field (empty turns role sync off)").fill("roles");
  await carol.getByLabel("Mapping (JSON: claim value to a list of role names)").fill('{"leads":["organization-admin"]}');
  await carol.getByRole("button", { name: "Save role sync" }).click();
  await carol.getByRole("alert").getByText(/not authorized to assign role/).waitFor();
  const rolesNow = await api("GET", `/organizations/${org}/settings/idpsync/roles`);
  assert.equal(rolesNow.body.field, "");
  await carol.context().close();
});
