-- Atrium schema, version 11 (PostgreSQL text; see 0011_restore_job_triggers.sql for the why):
-- migration 8's triggers on the tables migration 9 rebuilt, the job wake-up included.
CREATE TRIGGER cache_changes_builds AFTER INSERT OR UPDATE ON workspace_builds
FOR EACH ROW
EXECUTE FUNCTION atrium_changed('workspace', 'workspace_id');
CREATE TRIGGER cache_changes_jobs_insert AFTER INSERT ON provisioner_jobs
FOR EACH ROW
EXECUTE FUNCTION atrium_changed('workspace', '*');
CREATE TRIGGER cache_changes_jobs_update AFTER UPDATE OF started_at, completed_at, canceled_at, error ON provisioner_jobs
FOR EACH ROW
EXECUTE FUNCTION atrium_changed('workspace', '*');
CREATE TRIGGER cache_changes_template_versions AFTER UPDATE ON template_versions
FOR EACH ROW
EXECUTE FUNCTION atrium_changed('workspace', '*');
CREATE TRIGGER provisioner_job_posted AFTER INSERT ON provisioner_jobs
FOR EACH ROW EXECUTE FUNCTION atrium_job_posted();
