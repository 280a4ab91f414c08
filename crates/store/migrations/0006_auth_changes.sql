-- Atrium schema, version 6: the record of authorization changes, kept by triggers.
--
-- Servers cache each session's user and compiled subject. Every write that changes what a
-- cached subject was built from (a user's status, site roles, memberships, org roles, groups,
-- keys, or any custom role) records the user here, whoever writes it: the server, a sweep or
-- an admin command. The committing transaction takes its own rows and tells its server's cache
-- after the commit; rows written outside a server transaction (`atrium reset-password`) are
-- taken by the server's poll. '*' stands for every user (custom-role edits). This file is the
-- SQLite text; 0006_auth_changes.postgres.sql also sends each change as a notification.
CREATE TABLE auth_changes (
    seq INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    tx BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
        DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)),
    CONSTRAINT auth_changes_pkey PRIMARY KEY (seq)
);

CREATE TRIGGER auth_changes_users_update
AFTER UPDATE OF status, deleted, username, email, name, avatar_url, login_type, hashed_password
ON users
BEGIN INSERT INTO auth_changes (user_id) VALUES (NEW.id); END;
CREATE TRIGGER auth_changes_users_delete AFTER DELETE ON users
BEGIN INSERT INTO auth_changes (user_id) VALUES (OLD.id); END;

CREATE TRIGGER auth_changes_site_roles_insert AFTER INSERT ON user_site_roles
BEGIN INSERT INTO auth_changes (user_id) VALUES (NEW.user_id); END;
CREATE TRIGGER auth_changes_site_roles_update AFTER UPDATE ON user_site_roles
BEGIN INSERT INTO auth_changes (user_id) VALUES (OLD.user_id), (NEW.user_id); END;
CREATE TRIGGER auth_changes_site_roles_delete AFTER DELETE ON user_site_roles
BEGIN INSERT INTO auth_changes (user_id) VALUES (OLD.user_id); END;

CREATE TRIGGER auth_changes_members_insert AFTER INSERT ON organization_members
BEGIN INSERT INTO auth_changes (user_id) VALUES (NEW.user_id); END;
CREATE TRIGGER auth_changes_members_delete AFTER DELETE ON organization_members
BEGIN INSERT INTO auth_changes (user_id) VALUES (OLD.user_id); END;

CREATE TRIGGER auth_changes_member_roles_insert AFTER INSERT ON organization_member_roles
BEGIN INSERT INTO auth_changes (user_id) VALUES (NEW.user_id); END;
CREATE TRIGGER auth_changes_member_roles_update AFTER UPDATE ON organization_member_roles
BEGIN INSERT INTO auth_changes (user_id) VALUES (OLD.user_id), (NEW.user_id); END;
CREATE TRIGGER auth_changes_member_roles_delete AFTER DELETE ON organization_member_roles
BEGIN INSERT INTO auth_changes (user_id) VALUES (OLD.user_id); END;

CREATE TRIGGER auth_changes_group_members_insert AFTER INSERT ON group_members
BEGIN INSERT INTO auth_changes (user_id) VALUES (NEW.user_id); END;
CREATE TRIGGER auth_changes_group_members_delete AFTER DELETE ON group_members
BEGIN INSERT INTO auth_changes (user_id) VALUES (OLD.user_id); END;

CREATE TRIGGER auth_changes_custom_roles_insert AFTER INSERT ON custom_roles
BEGIN INSERT INTO auth_changes (user_id) VALUES ('*'); END;
CREATE TRIGGER auth_changes_custom_roles_update AFTER UPDATE ON custom_roles
BEGIN INSERT INTO auth_changes (user_id) VALUES ('*'); END;
CREATE TRIGGER auth_changes_custom_roles_delete AFTER DELETE ON custom_roles
BEGIN INSERT INTO auth_changes (user_id) VALUES ('*'); END;

-- A key's use extends it (no record); revoking, shortening or re-scoping it is a change.
CREATE TRIGGER auth_changes_api_keys_delete AFTER DELETE ON api_keys
BEGIN INSERT INTO auth_changes (user_id) VALUES (OLD.user_id); END;
CREATE TRIGGER auth_changes_api_keys_shorten AFTER UPDATE OF expires_at ON api_keys
WHEN NEW.expires_at < OLD.expires_at
BEGIN INSERT INTO auth_changes (user_id) VALUES (OLD.user_id); END;
CREATE TRIGGER auth_changes_api_keys_update
AFTER UPDATE OF hashed_secret, user_id, scope, login_type ON api_keys
BEGIN INSERT INTO auth_changes (user_id) VALUES (OLD.user_id), (NEW.user_id); END;
