-- Atrium schema, version 6: restriction roles, site-wide custom roles, "who may assign" (issue 20).
--
-- An org custom role may now be a restriction role (negative permissions only, defined by
-- owners), and any custom role may name the roles whose holders can assign it (a JSON array of
-- role names). Site-wide roles have no organization, so they get their own table rather than a
-- nullable org_id (SQLite cannot drop NOT NULL without rebuilding custom_roles); holders keep
-- the name in user_site_roles, as org roles are kept in organization_member_roles.
ALTER TABLE custom_roles ADD COLUMN restriction BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE custom_roles ADD COLUMN assignable_by TEXT NOT NULL DEFAULT '[]';

CREATE TABLE site_roles (
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    restriction BOOLEAN NOT NULL DEFAULT FALSE,
    -- JSON arrays of {negate, resource_type, action}.
    site_permissions TEXT NOT NULL DEFAULT '[]',
    user_permissions TEXT NOT NULL DEFAULT '[]',
    -- JSON array of role names.
    assignable_by TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT site_roles_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX site_roles_name_key ON site_roles (lower(name));
