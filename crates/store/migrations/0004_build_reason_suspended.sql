-- Workspace builds may be started because their owner was suspended (reason `suspended`: a
-- suspended user's running workspaces are stopped).
--
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt the portable way:
-- copy the rows aside, drop the table, create it again (same columns, same named constraints,
-- the wider check), copy the rows back. Nothing references workspace_builds, and the migration
-- runs in one transaction, so a failure leaves the old table.

CREATE TABLE workspace_builds_copy AS SELECT * FROM workspace_builds;

DROP TABLE workspace_builds;

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
        CHECK (reason IN ('initiator', 'autostart', 'autostop', 'dormancy', 'suspended'))
);

INSERT INTO workspace_builds (id, workspace_id, build_number, transition, reason, initiator_id,
    job_id, template_version_id, state, created_at, updated_at)
SELECT id, workspace_id, build_number, transition, reason, initiator_id, job_id,
    template_version_id, state, created_at, updated_at
FROM workspace_builds_copy;

DROP TABLE workspace_builds_copy;
