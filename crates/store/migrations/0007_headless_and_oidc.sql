-- Atrium schema, version 7: service accounts (issue 19).
--
-- A service account is a headless user (login type none) with no email, so the live-email
-- uniqueness no longer covers the empty email: any number of service accounts may share it.
ALTER TABLE users ADD COLUMN is_service_account BOOLEAN NOT NULL DEFAULT FALSE;
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE NOT deleted AND email <> '';
