-- Atrium schema, version 13: IdP sync settings (issue 19), in the database so every replica
-- syncs the same way. One row per setting: `organization` (deployment-wide organization sync),
-- `groups:<org id>` and `roles:<org id>` (an organization's group and role sync, removed with
-- the organization). The value is Coder's settings object as JSON.
CREATE TABLE idp_sync_settings (
    setting_key TEXT NOT NULL,
    organization_id TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    updated_at BIGINT NOT NULL,
    CONSTRAINT idp_sync_settings_pkey PRIMARY KEY (setting_key),
    CONSTRAINT idp_sync_settings_organization_id_fkey FOREIGN KEY (organization_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX idp_sync_settings_organization_id_idx ON idp_sync_settings (organization_id);
