-- Atrium schema, version 2: who uploaded each file.
--
-- Files are stored once per content hash (files_hash_key), but a file is owned by whoever
-- uploaded it (rbac.md §2: file objects are owned by their uploader). Without this table a
-- second user uploading the same bytes would be handed a file owned by someone else, which
-- they may not read, so could not build a template version from. Every upload records its
-- uploader here; `files.created_by` stays the first one.

CREATE TABLE file_uploaders (
    file_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT file_uploaders_pkey PRIMARY KEY (file_id, user_id),
    CONSTRAINT file_uploaders_file_id_fkey
        FOREIGN KEY (file_id) REFERENCES files (id) ON DELETE CASCADE,
    CONSTRAINT file_uploaders_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX file_uploaders_user_id_idx ON file_uploaders (user_id, file_id);

-- Files stored before this version were uploaded by their creator.
INSERT INTO file_uploaders (file_id, user_id, created_at)
    SELECT id, created_by, created_at FROM files;
