-- Atrium schema, version 7: passwords an admin reset, which their user must change.
--
-- When an admin sets someone else's password (the dashboard's Reset password, or
-- `PUT /users/{user}/password` without the old one), the user is asked to choose a new one
-- right after signing in (seed 004). The row goes when the user changes it themselves.

CREATE TABLE user_password_resets (
    user_id TEXT NOT NULL,
    reset_at BIGINT NOT NULL,
    CONSTRAINT user_password_resets_pkey PRIMARY KEY (user_id),
    CONSTRAINT user_password_resets_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
