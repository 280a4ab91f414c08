-- Atrium schema, version 3: indexes for authorized workspace pages.
--
-- An authorized page reads each disjunct of the caller's filter as its own branch, in name
-- order, and takes the first names of their union (crates/store/src/workspace_list.rs;
-- figures in docs/BENCHMARKS.md):
-- - the orgs a role may read every workspace of: an org's first live names, in order, from
--   workspaces_org_id_name_idx;
-- - the caller's own workspaces: workspaces_owner_id_name_key (0001);
-- - the ACL branches name workspaces by id; workspaces_id_org_id_name_idx gives each one's
--   org, name and deleted flag without reading the table (on SQLite the table's pages are
--   what a small page cache misses most; on PostgreSQL it allows index-only scans).
CREATE INDEX workspaces_org_id_name_idx ON workspaces (org_id, lower(name), id) WHERE NOT deleted;
CREATE INDEX workspaces_id_org_id_name_idx ON workspaces (id, org_id, name, deleted);
