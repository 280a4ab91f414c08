-- Provisioner jobs may be template version dry-runs (Coder's `template_version_dry_run`: a
-- plan of a workspace from a version, as `coder create` and `coder start` run before building).
--
-- SQLite cannot change a CHECK constraint in place, and PostgreSQL refuses to drop a table other
-- tables reference, so the jobs table and the three tables referencing it (logs, template
-- versions, workspace builds) are rebuilt the portable way: copy each aside, drop the
-- referencing tables first, create all four again (same columns, same named constraints and
-- indexes; only the kind check is wider), copy the rows back parents first. The migration runs
-- in one transaction, so a failure leaves the old tables.

CREATE TABLE provisioner_jobs_copy AS SELECT * FROM provisioner_jobs;
CREATE TABLE provisioner_job_logs_copy AS SELECT * FROM provisioner_job_logs;
CREATE TABLE template_versions_copy AS SELECT * FROM template_versions;
CREATE TABLE workspace_builds_copy AS SELECT * FROM workspace_builds;

DROP TABLE workspace_builds;
DROP TABLE template_versions;
DROP TABLE provisioner_job_logs;
DROP TABLE provisioner_jobs;

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
        CHECK (kind IN ('template_version_import', 'workspace_build', 'template_version_dry_run'))
);
-- The claim query: oldest pending job first.
CREATE INDEX provisioner_jobs_pending_idx ON provisioner_jobs (created_at, id)
    WHERE started_at IS NULL;
CREATE INDEX provisioner_jobs_org_id_idx ON provisioner_jobs (org_id);

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

INSERT INTO provisioner_jobs (id, org_id, initiator_id, kind, provisioner, file_id, input,
    created_at, updated_at, started_at, completed_at, canceled_at, error, worker_id)
SELECT id, org_id, initiator_id, kind, provisioner, file_id, input, created_at, updated_at,
    started_at, completed_at, canceled_at, error, worker_id
FROM provisioner_jobs_copy;

INSERT INTO provisioner_job_logs (job_id, id, created_at, level, stage, output)
SELECT job_id, id, created_at, level, stage, output FROM provisioner_job_logs_copy;

INSERT INTO template_versions (id, template_id, org_id, name, message, readme, job_id, file_id,
    created_by, created_at, updated_at)
SELECT id, template_id, org_id, name, message, readme, job_id, file_id, created_by, created_at,
    updated_at
FROM template_versions_copy;

INSERT INTO workspace_builds (id, workspace_id, build_number, transition, reason, initiator_id,
    job_id, template_version_id, state, created_at, updated_at)
SELECT id, workspace_id, build_number, transition, reason, initiator_id, job_id,
    template_version_id, state, created_at, updated_at
FROM workspace_builds_copy;

DROP TABLE workspace_builds_copy;
DROP TABLE template_versions_copy;
DROP TABLE provisioner_job_logs_copy;
DROP TABLE provisioner_jobs_copy;
