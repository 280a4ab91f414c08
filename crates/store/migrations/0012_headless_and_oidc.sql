-- Atrium schema, version 12: service accounts (issue 19).
--
-- A service account is a headless user (login type none) with no email, so the live-email
-- uniqueness no longer covers the empty email: any number of service accounts may share it.
ALTER TABLE users ADD COLUMN is_service_account BOOLEAN NOT NULL DEFAULT FALSE;
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE NOT deleted AND email <> '';

-- OIDC sign-in. A sign-in in flight: the browser keeps the state in a cookie, the database
-- keeps what must not travel (the PKCE verifier, the nonce), so any replica can finish it. The
-- state is stored hashed, used once (deleted when taken) and expires.
CREATE TABLE oidc_login_states (
    state_hash TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    redirect TEXT NOT NULL DEFAULT '',
    expires_at BIGINT NOT NULL,
    CONSTRAINT oidc_login_states_pkey PRIMARY KEY (state_hash)
);
CREATE INDEX oidc_login_states_expires_at_idx ON oidc_login_states (expires_at);

-- Which identity-provider subject (`<issuer>||<sub>`, as Coder's linked_id) a user is, and the
-- claims of their last sign-in (JSON), which IdP sync reads.
CREATE TABLE user_links (
    user_id TEXT NOT NULL,
    login_type TEXT NOT NULL,
    linked_id TEXT NOT NULL,
    claims TEXT NOT NULL DEFAULT '{}',
    updated_at BIGINT NOT NULL,
    CONSTRAINT user_links_pkey PRIMARY KEY (user_id, login_type),
    CONSTRAINT user_links_linked_id_key UNIQUE (linked_id),
    CONSTRAINT user_links_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
