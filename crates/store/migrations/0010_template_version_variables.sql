-- Template variables (Coder's template_version_variables): the `variable` blocks a version's
-- import found, each with the value it got at import (the user's, else the default), in
-- declaration order (position).
CREATE TABLE template_version_variables (
    template_version_id TEXT NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    type TEXT NOT NULL DEFAULT '',
    default_value TEXT NOT NULL DEFAULT '',
    value TEXT NOT NULL DEFAULT '',
    required BOOLEAN NOT NULL,
    sensitive BOOLEAN NOT NULL,
    CONSTRAINT template_version_variables_pkey PRIMARY KEY (template_version_id, name),
    CONSTRAINT template_version_variables_template_version_id_fkey
        FOREIGN KEY (template_version_id) REFERENCES template_versions (id) ON DELETE CASCADE
);
