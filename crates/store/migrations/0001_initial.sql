-- Atrium schema, version 1.
--
-- One portable tree for SQLite and PostgreSQL (see crates/store/src/lib.rs):
--   ids          TEXT, lowercase hyphenated uuids (api_keys.id: Coder's 10-character id)
--   timestamps   BIGINT unix microseconds, UTC
--   JSON         TEXT
--   booleans     BOOLEAN
--   binary       BLOB (on PostgreSQL a domain over bytea, created by the migrator's prelude)
--   ACL actions  INTEGER bitmask of the engine's ActionSet::bits()
-- Every constraint is named. Unique constraints over plain columns use PostgreSQL's default
-- name (<table>_<cols>_key) and foreign keys end in _fkey, so both backends report the same
-- names (crates/store/src/error.rs). Append-only: never edit this file once released.

CREATE TABLE users (
    id TEXT NOT NULL,
    username TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    avatar_url TEXT NOT NULL DEFAULT '',
    -- PHC string; NULL when the user cannot log in with a password.
    hashed_password TEXT,
    login_type TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_seen_at BIGINT,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_status_check CHECK (status IN ('active', 'dormant', 'suspended')),
    CONSTRAINT users_login_type_check
        CHECK (login_type IN ('password', 'github', 'oidc', 'token', 'none'))
);
-- Live names are unique ignoring case; a deleted user frees its username and email.
CREATE UNIQUE INDEX users_username_key ON users (lower(username)) WHERE NOT deleted;
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE NOT deleted;
CREATE INDEX users_created_at_idx ON users (created_at, id);

CREATE TABLE user_site_roles (
    user_id TEXT NOT NULL,
    role_name TEXT NOT NULL,
    CONSTRAINT user_site_roles_pkey PRIMARY KEY (user_id, role_name),
    CONSTRAINT user_site_roles_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
-- `role:owner` user searches.
CREATE INDEX user_site_roles_role_name_idx ON user_site_roles (role_name, user_id);

CREATE TABLE organizations (
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    icon TEXT NOT NULL DEFAULT '',
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT organizations_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX organizations_name_key ON organizations (lower(name));
-- At most one default org: every default row has the same key (TRUE).
CREATE UNIQUE INDEX organizations_single_default ON organizations (is_default) WHERE is_default;

CREATE TABLE organization_members (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT organization_members_pkey PRIMARY KEY (org_id, user_id),
    CONSTRAINT organization_members_org_id_fkey
        FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE,
    CONSTRAINT organization_members_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX organization_members_user_id_idx ON organization_members (user_id, org_id);

-- Built-in role names (organization-admin, ...) or custom role names of the same org. No
-- foreign key to custom_roles: built-ins are not rows; deleting a custom role deletes its
-- assignments in the same transaction.
CREATE TABLE organization_member_roles (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role_name TEXT NOT NULL,
    CONSTRAINT organization_member_roles_pkey PRIMARY KEY (org_id, user_id, role_name),
    CONSTRAINT organization_member_roles_member_fkey
        FOREIGN KEY (org_id, user_id) REFERENCES organization_members (org_id, user_id)
        ON DELETE CASCADE
);
CREATE INDEX organization_member_roles_user_id_idx ON organization_member_roles (user_id);

CREATE TABLE custom_roles (
    id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    -- JSON arrays of {negate, resource_type, action}.
    site_permissions TEXT NOT NULL DEFAULT '[]',
    org_permissions TEXT NOT NULL DEFAULT '[]',
    user_permissions TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT custom_roles_pkey PRIMARY KEY (id),
    CONSTRAINT custom_roles_org_id_fkey
        FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX custom_roles_name_key ON custom_roles (org_id, lower(name));

-- The Everyone group of an org is implicit (its id is the org id) and has no row here.
CREATE TABLE groups (
    id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    avatar_url TEXT NOT NULL DEFAULT '',
    quota_allowance INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT 'user',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT groups_pkey PRIMARY KEY (id),
    CONSTRAINT groups_org_id_fkey
        FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE,
    CONSTRAINT groups_org_id_name_key UNIQUE (org_id, name),
    CONSTRAINT groups_source_check CHECK (source IN ('user', 'oidc'))
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    CONSTRAINT group_members_pkey PRIMARY KEY (group_id, user_id),
    CONSTRAINT group_members_group_id_fkey
        FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT group_members_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX group_members_user_id_idx ON group_members (user_id, group_id);

-- Content-addressed uploads: one row per sha256.
CREATE TABLE files (
    id TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    mimetype TEXT NOT NULL,
    data BLOB NOT NULL,
    CONSTRAINT files_pkey PRIMARY KEY (id),
    CONSTRAINT files_hash_key UNIQUE (hash),
    CONSTRAINT files_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id)
);

-- A queue. Status is derived from the timestamps (pending, running, succeeded, failed,
-- canceling, canceled), as in Coder.
CREATE TABLE provisioner_jobs (
    id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    initiator_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    provisioner TEXT NOT NULL,
    file_id TEXT,
    input TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    started_at BIGINT,
    completed_at BIGINT,
    canceled_at BIGINT,
    error TEXT,
    worker_id TEXT,
    CONSTRAINT provisioner_jobs_pkey PRIMARY KEY (id),
    CONSTRAINT provisioner_jobs_org_id_fkey
        FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE,
    CONSTRAINT provisioner_jobs_initiator_id_fkey
        FOREIGN KEY (initiator_id) REFERENCES users (id),
    CONSTRAINT provisioner_jobs_file_id_fkey FOREIGN KEY (file_id) REFERENCES files (id),
    CONSTRAINT provisioner_jobs_kind_check
        CHECK (kind IN ('template_version_import', 'workspace_build'))
);
-- The claim query: oldest pending job first.
CREATE INDEX provisioner_jobs_pending_idx ON provisioner_jobs (created_at, id)
    WHERE started_at IS NULL;
CREATE INDEX provisioner_jobs_org_id_idx ON provisioner_jobs (org_id);

-- Log lines are numbered per job (1, 2, 3, ...) by the store; one worker writes a job's logs.
CREATE TABLE provisioner_job_logs (
    job_id TEXT NOT NULL,
    id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    level TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT '',
    output TEXT NOT NULL,
    CONSTRAINT provisioner_job_logs_pkey PRIMARY KEY (job_id, id),
    CONSTRAINT provisioner_job_logs_job_id_fkey
        FOREIGN KEY (job_id) REFERENCES provisioner_jobs (id) ON DELETE CASCADE,
    CONSTRAINT provisioner_job_logs_level_check
        CHECK (level IN ('trace', 'debug', 'info', 'warn', 'error'))
);

-- active_version_id has no foreign key: templates and versions reference each other, and
-- SQLite cannot add a constraint after CREATE TABLE. The store sets it only to a version of
-- the same template.
CREATE TABLE templates (
    id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    icon TEXT NOT NULL DEFAULT '',
    active_version_id TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT templates_pkey PRIMARY KEY (id),
    CONSTRAINT templates_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id),
    CONSTRAINT templates_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id)
);
CREATE UNIQUE INDEX templates_name_key ON templates (org_id, lower(name)) WHERE NOT deleted;
CREATE INDEX templates_org_id_idx ON templates (org_id);

CREATE TABLE template_versions (
    id TEXT NOT NULL,
    -- NULL until the version is attached to a template (Coder creates the first version first).
    template_id TEXT,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    readme TEXT NOT NULL DEFAULT '',
    job_id TEXT NOT NULL,
    file_id TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT template_versions_pkey PRIMARY KEY (id),
    CONSTRAINT template_versions_template_id_fkey
        FOREIGN KEY (template_id) REFERENCES templates (id) ON DELETE CASCADE,
    CONSTRAINT template_versions_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id),
    CONSTRAINT template_versions_job_id_fkey
        FOREIGN KEY (job_id) REFERENCES provisioner_jobs (id),
    CONSTRAINT template_versions_file_id_fkey FOREIGN KEY (file_id) REFERENCES files (id),
    CONSTRAINT template_versions_created_by_fkey
        FOREIGN KEY (created_by) REFERENCES users (id),
    CONSTRAINT template_versions_template_id_name_key UNIQUE (template_id, name),
    CONSTRAINT template_versions_job_id_key UNIQUE (job_id)
);

-- ACLs, normalized: one row per grantee, actions as a bitmask. The (grantee, object, actions)
-- indexes let an authorized list answer "objects this user/group may <action>" from the index.
-- Group ACL rows have no foreign key to groups: the Everyone group (id = org id) is not a row.
CREATE TABLE template_acl_users (
    template_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    actions INTEGER NOT NULL,
    CONSTRAINT template_acl_users_pkey PRIMARY KEY (template_id, user_id),
    CONSTRAINT template_acl_users_template_id_fkey
        FOREIGN KEY (template_id) REFERENCES templates (id) ON DELETE CASCADE,
    CONSTRAINT template_acl_users_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT template_acl_users_actions_check CHECK (actions > 0)
);
CREATE INDEX template_acl_users_user_id_idx ON template_acl_users (user_id, template_id, actions);

CREATE TABLE template_acl_groups (
    template_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    actions INTEGER NOT NULL,
    CONSTRAINT template_acl_groups_pkey PRIMARY KEY (template_id, group_id),
    CONSTRAINT template_acl_groups_template_id_fkey
        FOREIGN KEY (template_id) REFERENCES templates (id) ON DELETE CASCADE,
    CONSTRAINT template_acl_groups_actions_check CHECK (actions > 0)
);
CREATE INDEX template_acl_groups_group_id_idx
    ON template_acl_groups (group_id, template_id, actions);

CREATE TABLE workspaces (
    id TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    template_id TEXT NOT NULL,
    name TEXT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    dormant_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    CONSTRAINT workspaces_pkey PRIMARY KEY (id),
    CONSTRAINT workspaces_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES users (id),
    CONSTRAINT workspaces_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id),
    CONSTRAINT workspaces_template_id_fkey FOREIGN KEY (template_id) REFERENCES templates (id)
);
CREATE UNIQUE INDEX workspaces_owner_id_name_key ON workspaces (owner_id, lower(name))
    WHERE NOT deleted;
CREATE INDEX workspaces_owner_id_idx ON workspaces (owner_id);
CREATE INDEX workspaces_org_id_idx ON workspaces (org_id);
CREATE INDEX workspaces_name_idx ON workspaces (lower(name));
CREATE INDEX workspaces_template_id_idx ON workspaces (template_id);

CREATE TABLE workspace_acl_users (
    workspace_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    actions INTEGER NOT NULL,
    CONSTRAINT workspace_acl_users_pkey PRIMARY KEY (workspace_id, user_id),
    CONSTRAINT workspace_acl_users_workspace_id_fkey
        FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE,
    CONSTRAINT workspace_acl_users_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT workspace_acl_users_actions_check CHECK (actions > 0)
);
CREATE INDEX workspace_acl_users_user_id_idx
    ON workspace_acl_users (user_id, workspace_id, actions);

CREATE TABLE workspace_acl_groups (
    workspace_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    actions INTEGER NOT NULL,
    CONSTRAINT workspace_acl_groups_pkey PRIMARY KEY (workspace_id, group_id),
    CONSTRAINT workspace_acl_groups_workspace_id_fkey
        FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE,
    CONSTRAINT workspace_acl_groups_actions_check CHECK (actions > 0)
);
CREATE INDEX workspace_acl_groups_group_id_idx
    ON workspace_acl_groups (group_id, workspace_id, actions);

CREATE TABLE workspace_builds (
    id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    build_number INTEGER NOT NULL,
    transition TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT 'initiator',
    initiator_id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    template_version_id TEXT NOT NULL,
    -- Terraform state, opaque.
    state BLOB,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT workspace_builds_pkey PRIMARY KEY (id),
    CONSTRAINT workspace_builds_workspace_id_fkey
        FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE,
    CONSTRAINT workspace_builds_initiator_id_fkey
        FOREIGN KEY (initiator_id) REFERENCES users (id),
    CONSTRAINT workspace_builds_job_id_fkey FOREIGN KEY (job_id) REFERENCES provisioner_jobs (id),
    CONSTRAINT workspace_builds_template_version_id_fkey
        FOREIGN KEY (template_version_id) REFERENCES template_versions (id),
    CONSTRAINT workspace_builds_workspace_id_build_number_key UNIQUE (workspace_id, build_number),
    CONSTRAINT workspace_builds_job_id_key UNIQUE (job_id),
    CONSTRAINT workspace_builds_transition_check CHECK (transition IN ('start', 'stop', 'delete')),
    CONSTRAINT workspace_builds_reason_check
        CHECK (reason IN ('initiator', 'autostart', 'autostop', 'dormancy'))
);

-- Session cookies and API tokens: `<id>-<secret>`, the secret stored as sha256 hex.
CREATE TABLE api_keys (
    id TEXT NOT NULL,
    hashed_secret TEXT NOT NULL,
    user_id TEXT NOT NULL,
    login_type TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT 'all',
    -- '' for session keys.
    token_name TEXT NOT NULL DEFAULT '',
    lifetime_seconds BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_used BIGINT NOT NULL,
    ip_address TEXT NOT NULL DEFAULT '',
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT api_keys_login_type_check
        CHECK (login_type IN ('password', 'github', 'oidc', 'token', 'none'))
);
CREATE UNIQUE INDEX api_keys_token_name_key ON api_keys (user_id, token_name)
    WHERE login_type = 'token';
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id);

-- No foreign keys: audit rows outlive the users, orgs and objects they mention.
CREATE TABLE audit_logs (
    id TEXT NOT NULL,
    time BIGINT NOT NULL,
    user_id TEXT,
    organization_id TEXT,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    resource_target TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    diff TEXT NOT NULL DEFAULT '{}',
    status_code INTEGER NOT NULL,
    request_id TEXT NOT NULL DEFAULT '',
    additional_fields TEXT NOT NULL DEFAULT '{}',
    CONSTRAINT audit_logs_pkey PRIMARY KEY (id)
);
CREATE INDEX audit_logs_time_idx ON audit_logs (time, id);
CREATE INDEX audit_logs_organization_id_time_idx ON audit_logs (organization_id, time, id);
CREATE INDEX audit_logs_user_id_time_idx ON audit_logs (user_id, time, id);
