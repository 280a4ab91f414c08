-- What a provisioner job planned: the managed Terraform resources of an import's plans (start and
-- stop) or a dry-run's (Coder's workspace resources), in plan order. Gone with their job.
CREATE TABLE provisioner_job_resources (
    id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    transition TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    CONSTRAINT provisioner_job_resources_pkey PRIMARY KEY (id),
    CONSTRAINT provisioner_job_resources_job_id_fkey
        FOREIGN KEY (job_id) REFERENCES provisioner_jobs (id) ON DELETE CASCADE,
    CONSTRAINT provisioner_job_resources_transition_check
        CHECK (transition IN ('start', 'stop', 'delete'))
);
CREATE INDEX provisioner_job_resources_job_id_idx ON provisioner_job_resources (job_id, position);
