"""Seeds a fresh Atrium server for scripts/schemathesis and writes its schemathesis.toml.

Usage: schemathesis-seed.py BASE_URL WORK_DIR

The world: the owner (first user, logged in: its session token is the one schemathesis sends),
the default org and a second org, a member in both, a "target" user that takes the destructive
user operations, a group in each org plus one kept for deletion, an uploaded template tar built
with the echo provisioner, its version, a template, a workspace (its first build finished), and
two API tokens of the owner's (one to read, one to expire). Every path parameter of the API is
pinned to one of these rows in the config file, so the operations reach real rows.
"""

import io
import json
import sys
import tarfile
import time
import urllib.error
import urllib.request

BASE, WORK = sys.argv[1], sys.argv[2]
API = BASE + "/api/v2"
PASSWORD = "Schemathesis-Owner-Pass-1!"
TOKEN = None


def call(method, path, body=None, *, raw=None, content_type="application/json", expect=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(API + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    if TOKEN:
        req.add_header("Coder-Session-Token", TOKEN)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, text = resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    if status >= 300 or (expect is not None and status != expect):
        sys.exit(f"seed: {method} {path} -> {status}: {text}")
    return json.loads(text) if text else None


def wait_job(path, field):
    """Polls until the job of `path` (its `field` object) has finished; it must succeed."""
    for _ in range(600):
        obj = call("GET", path)
        job = obj[field]["job"] if field else obj["job"]
        if job["status"] in ("succeeded", "failed", "canceled"):
            if job["status"] != "succeeded":
                sys.exit(f"seed: job of {path} ended {job['status']}: {job}")
            return obj
        time.sleep(0.1)
    sys.exit(f"seed: job of {path} did not finish")


call("POST", "/users/first", {"email": "owner@example.com", "username": "owner", "password": PASSWORD})
TOKEN = call("POST", "/users/login", {"email": "owner@example.com", "password": PASSWORD})["session_token"]
owner = call("GET", "/users/me")
default_org = next(o for o in call("GET", "/organizations") if o["is_default"])
org2 = call("POST", "/organizations", {"name": "second-org", "display_name": "Second org"})

member = call("POST", "/users", {
    "email": "member@example.com", "username": "member", "password": "Member-Secret-Pass-1!",
    "organization_ids": [default_org["id"]],
})
call("POST", f"/organizations/{org2['id']}/members/{member['id']}")
target = call("POST", "/users", {
    "email": "target@example.com", "username": "target", "password": "Target-Secret-Pass-1!",
    "organization_ids": [default_org["id"]],
})

group = call("POST", f"/organizations/{default_org['id']}/groups", {"name": "developers"})
call("PATCH", f"/groups/{group['id']}", {"add_users": [member["id"]]})
doomed_group = call("POST", f"/organizations/{org2['id']}/groups", {"name": "doomed"})
call("POST", f"/organizations/{org2['id']}/groups", {"name": "operators"})

buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as tar:
    content = b'resource "terraform_data" "x" {}\n'
    info = tarfile.TarInfo("main.tf")
    info.size, info.mtime = len(content), 0
    tar.addfile(info, io.BytesIO(content))
file_id = call("POST", "/files", raw=buf.getvalue(), content_type="application/x-tar")["hash"]

version = call("POST", f"/organizations/{default_org['id']}/templateversions", {
    "storage_method": "file", "file_id": file_id, "provisioner": "echo",
})
version = wait_job(f"/templateversions/{version['id']}", None)
template = call("POST", f"/organizations/{default_org['id']}/templates", {
    "name": "basic", "template_version_id": version["id"],
})
workspace = call("POST", f"/organizations/{default_org['id']}/members/{member['id']}/workspaces", {
    "template_id": template["id"], "name": "managed",
})
workspace = wait_job(f"/workspaces/{workspace['id']}", "latest_build")
build = workspace["latest_build"]

call("POST", f"/users/{owner['id']}/keys/tokens", {"token_name": "seeded"})
token = call("GET", f"/users/{owner['id']}/keys/tokens/seeded")
call("POST", f"/users/{owner['id']}/keys/tokens", {"token_name": "expendable"})
expendable = call("GET", f"/users/{owner['id']}/keys/tokens/expendable")

role = call("POST", f"/organizations/{default_org['id']}/members/roles", {
    "name": "auditors", "display_name": "Auditors",
    "organization_permissions": [{"negate": False, "resource_type": "audit_log", "action": "read"}],
    "site_permissions": [], "user_permissions": [],
})


def toml(value):
    return json.dumps(value)  # a JSON string is a valid TOML basic string


params = {
    "path.user": owner["id"],
    "path.organization": default_org["id"],
    "path.group": group["id"],
    "path.groupName": group["name"],
    "path.roleName": role["name"],
    "path.fileID": file_id,
    "path.template": template["id"],
    "path.templatename": template["name"],
    "path.templateversion": version["id"],
    "path.workspace": workspace["id"],
    "path.workspacename": workspace["name"],
    "path.workspacebuild": build["id"],
    "path.keyid": token["id"],
    "path.keyname": token["token_name"],
}

# Operations whose pinned rows differ from the defaults above (why: see scripts/schemathesis).
overrides = [
    # Password and status changes go to the target user, never to the owner running the pass.
    ("PUT /api/v2/users/{user}/password", {"path.user": target["id"]}),
    ("PUT /api/v2/users/{user}/status/suspend", {"path.user": target["id"]}),
    ("PUT /api/v2/users/{user}/status/activate", {"path.user": target["id"]}),
    # Expiring a key: a token of its own, not the session.
    ("PUT /api/v2/users/{user}/keys/{keyid}/expire", {"path.keyid": expendable["id"]}),
    # Deleting a group: one kept for that.
    ("DELETE /api/v2/groups/{group}", {"path.group": doomed_group["id"]}),
    # Removing a member: the target from the default org (the owner keeps its memberships).
    ("DELETE /api/v2/organizations/{organization}/members/{user}", {"path.user": target["id"]}),
    # Member routes of the second org reach the member.
    ("GET /api/v2/organizations/{organization}/members/{user}",
     {"path.organization": org2["id"], "path.user": member["id"]}),
    ("PUT /api/v2/organizations/{organization}/members/{user}/roles",
     {"path.organization": org2["id"], "path.user": member["id"]}),
    ("POST /api/v2/organizations/{organization}/members/{user}",
     {"path.organization": org2["id"], "path.user": target["id"]}),
    ("POST /api/v2/organizations/{organization}/members/{user}/workspaces",
     {"path.user": member["id"]}),
]

disabled = [
    # Ends the session the pass runs with.
    "POST /api/v2/users/logout",
    # Deletes an API key: with the owner's session key id it would end the session.
    "DELETE /api/v2/users/{user}/keys/{keyid}",
]

header = f"headers = {{ \"Coder-Session-Token\" = {toml(TOKEN)} }}"
# The read pass generates its own path values (hostile ones included); reads change nothing.
with open(f"{WORK}/schemathesis-reads.toml", "w") as f:
    f.write(header + "\n")

lines = [header, "", "[parameters]"]
lines += [f"{toml(k)} = {toml(v)}" for k, v in params.items()]
for name, values in overrides:
    lines += ["", "[[operations]]", f"include-name = {toml(name)}", "[operations.parameters]"]
    lines += [f"{toml(k)} = {toml(v)}" for k, v in values.items()]
for name in disabled:
    lines += ["", "[[operations]]", f"include-name = {toml(name)}", "enabled = false"]

with open(f"{WORK}/schemathesis.toml", "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"seed: owner {owner['id']}, orgs {default_org['id']} and {org2['id']}, "
      f"template {template['id']}, workspace {workspace['id']}")
