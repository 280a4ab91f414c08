-- Atrium schema, version 11: the triggers migration 9 dropped with the tables it rebuilt.
--
-- Migration 9 rebuilt provisioner_jobs, provisioner_job_logs, template_versions and
-- workspace_builds (to allow dry-run jobs), which drops their triggers; migration 8's
-- cache_changes triggers on three of them are created again here, exactly as they were (the
-- `triggers` store test checks that every trigger the migrations create survives).
CREATE TRIGGER cache_changes_builds_insert AFTER INSERT ON workspace_builds
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', NEW.workspace_id); END;
CREATE TRIGGER cache_changes_builds_update AFTER UPDATE ON workspace_builds
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', NEW.workspace_id); END;
CREATE TRIGGER cache_changes_jobs_insert AFTER INSERT ON provisioner_jobs
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', '*'); END;
CREATE TRIGGER cache_changes_jobs_update AFTER UPDATE OF started_at, completed_at, canceled_at, error ON provisioner_jobs
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', '*'); END;
CREATE TRIGGER cache_changes_template_versions_update AFTER UPDATE ON template_versions
BEGIN INSERT INTO cache_changes (topic, id) VALUES ('workspace', '*'); END;
