-- Atrium schema, version 8: the record of changes that cached data depends on, kept by
-- triggers.
--
-- Servers cache each session's user and compiled subject (topic `user`) and each workspace's
-- view (topic `workspace`). Every write that changes what a cached item was built from records
-- the item's id here, whoever writes it: the server, a sweep or an admin command. The
-- committing transaction takes its own rows and tells its server's caches after the commit;
-- rows written outside a server transaction (`atrium reset-password`) are taken by the
-- server's poll. '*' stands for every item of the topic. This file is the SQLite text;
-- 0008_cache_changes.postgres.sql also sends each change as a notification.
--
-- topic `user`: a user's status and profile, site roles, memberships, org roles, groups and
-- keys; any custom role or site-wide role definition ('*'). topic `workspace`: the workspace,
-- its builds and sharing ACL;
-- '*' for what many views show (jobs changing state, templates, versions, organizations,
-- owners' names).
CREATE TABLE cache_changes (
    seq INTEGER NOT NULL,
    topic TEXT NOT NULL,
    id TEXT NOT NULL,
    tx BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
        DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)),
    CONSTRAINT cache_changes_pkey PRIMARY KEY (seq)
);

CREATE TRIGGER cache_changes_users_update AFTER UPDATE OF status, deleted, username, email, name, avatar_url, login_type,
    hashed_password ON users
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', NEW.id), ('workspace', '*'); END;
CREATE TRIGGER cache_changes_users_delete AFTER DELETE ON users
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', OLD.id); END;
CREATE TRIGGER cache_changes_site_roles_insert AFTER INSERT ON user_site_roles
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', NEW.user_id); END;
CREATE TRIGGER cache_changes_site_roles_update AFTER UPDATE ON user_site_roles
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', OLD.user_id), ('user', NEW.user_id); END;
CREATE TRIGGER cache_changes_site_roles_delete AFTER DELETE ON user_site_roles
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', OLD.user_id); END;
CREATE TRIGGER cache_changes_members_insert AFTER INSERT ON organization_members
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', NEW.user_id); END;
CREATE TRIGGER cache_changes_members_delete AFTER DELETE ON organization_members
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', OLD.user_id); END;
CREATE TRIGGER cache_changes_member_roles_insert AFTER INSERT ON organization_member_roles
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', NEW.user_id); END;
CREATE TRIGGER cache_changes_member_roles_update AFTER UPDATE ON organization_member_roles
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', OLD.user_id), ('user', NEW.user_id); END;
CREATE TRIGGER cache_changes_member_roles_delete AFTER DELETE ON organization_member_roles
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', OLD.user_id); END;
CREATE TRIGGER cache_changes_group_members_insert AFTER INSERT ON group_members
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', NEW.user_id); END;
CREATE TRIGGER cache_changes_group_members_delete AFTER DELETE ON group_members
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', OLD.user_id); END;
CREATE TRIGGER cache_changes_custom_roles_insert AFTER INSERT ON custom_roles
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', '*'); END;
CREATE TRIGGER cache_changes_custom_roles_update AFTER UPDATE ON custom_roles
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', '*'); END;
CREATE TRIGGER cache_changes_custom_roles_delete AFTER DELETE ON custom_roles
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', '*'); END;
CREATE TRIGGER cache_changes_site_roles_def_insert AFTER INSERT ON site_roles
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', '*'); END;
CREATE TRIGGER cache_changes_site_roles_def_update AFTER UPDATE ON site_roles
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', '*'); END;
CREATE TRIGGER cache_changes_site_roles_def_delete AFTER DELETE ON site_roles
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', '*'); END;
-- A key's use extends it (no record); revoking, shortening or re-scoping it is a change.
CREATE TRIGGER cache_changes_api_keys_delete AFTER DELETE ON api_keys
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', OLD.user_id); END;
CREATE TRIGGER cache_changes_api_keys_shorten AFTER UPDATE OF expires_at ON api_keys
WHEN NEW.expires_at < OLD.expires_at
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', OLD.user_id); END;
CREATE TRIGGER cache_changes_api_keys_update AFTER UPDATE OF hashed_secret, user_id, scope, login_type ON api_keys
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('user', OLD.user_id), ('user', NEW.user_id); END;

CREATE TRIGGER cache_changes_workspaces_update AFTER UPDATE ON workspaces
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', NEW.id); END;
CREATE TRIGGER cache_changes_workspaces_delete AFTER DELETE ON workspaces
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', OLD.id); END;
CREATE TRIGGER cache_changes_builds_insert AFTER INSERT ON workspace_builds
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', NEW.workspace_id); END;
CREATE TRIGGER cache_changes_builds_update AFTER UPDATE ON workspace_builds
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', NEW.workspace_id); END;
CREATE TRIGGER cache_changes_ws_acl_users_insert AFTER INSERT ON workspace_acl_users
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', NEW.workspace_id); END;
CREATE TRIGGER cache_changes_ws_acl_users_update AFTER UPDATE ON workspace_acl_users
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', NEW.workspace_id); END;
CREATE TRIGGER cache_changes_ws_acl_users_delete AFTER DELETE ON workspace_acl_users
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', OLD.workspace_id); END;
CREATE TRIGGER cache_changes_ws_acl_groups_insert AFTER INSERT ON workspace_acl_groups
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', NEW.workspace_id); END;
CREATE TRIGGER cache_changes_ws_acl_groups_update AFTER UPDATE ON workspace_acl_groups
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', NEW.workspace_id); END;
CREATE TRIGGER cache_changes_ws_acl_groups_delete AFTER DELETE ON workspace_acl_groups
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', OLD.workspace_id); END;
-- A new job moves pending builds' queue positions; a job's state shows in its build's view.
-- Heartbeats (updated_at alone) are not changes.
CREATE TRIGGER cache_changes_jobs_insert AFTER INSERT ON provisioner_jobs
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', '*'); END;
CREATE TRIGGER cache_changes_jobs_update AFTER UPDATE OF started_at, completed_at, canceled_at, error ON provisioner_jobs
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', '*'); END;
CREATE TRIGGER cache_changes_templates_update AFTER UPDATE ON templates
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', '*'); END;
CREATE TRIGGER cache_changes_templates_delete AFTER DELETE ON templates
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', '*'); END;
CREATE TRIGGER cache_changes_template_versions_update AFTER UPDATE ON template_versions
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', '*'); END;
CREATE TRIGGER cache_changes_organizations_update AFTER UPDATE ON organizations
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', '*'); END;
CREATE TRIGGER cache_changes_organizations_delete AFTER DELETE ON organizations
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', '*'); END;
