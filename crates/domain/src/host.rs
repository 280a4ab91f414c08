//! Operations an operator runs on the server's host, as the system rather than as a caller:
//! `atrium reset-password` writes the database directly (like Coder's), so it works while the
//! server runs and when nobody can log in. This is the CLI's only way to the store.

use std::path::Path;

use atrium_engine::password::validate_password;
use atrium_store::{DbTime, LoginType, Store, api_keys, password_resets, users};
use serde_json::json;

use crate::audit::{self, Entry};
use crate::caller::RequestMeta;
use crate::passwords;

/// The database of a server on this host, opened for host-local operations.
pub struct Host {
    store: Store,
}

impl Host {
    /// The SQLite database in `dir` (without the server's lock: a running server may hold it).
    pub async fn open_sqlite(dir: &Path) -> Result<Host, String> {
        if !dir.join("atrium.db").exists() {
            return Err(format!("no Atrium database in {}", dir.display()));
        }
        Ok(Host { store: Store::open_sqlite(dir).await.map_err(|e| e.to_string())? })
    }

    /// A PostgreSQL database.
    pub async fn open_postgres(url: &str) -> Result<Host, String> {
        Ok(Host { store: Store::open_postgres(url).await.map_err(|e| e.to_string())? })
    }

    /// The password user `username`, checked before a new password is asked for.
    pub async fn password_user(&self, username: &str) -> Result<String, String> {
        let user = users::get_by_username(&self.store, username)
            .await
            .map_err(|_| format!("user \"{username}\" not found"))?;
        if user.login_type != LoginType::Password {
            return Err(format!(
                "user \"{}\" has login type \"{}\"; only password users have a password",
                user.username,
                user.login_type.as_str()
            ));
        }
        Ok(user.username)
    }

    /// Sets `username`'s password and revokes their sessions and tokens, audited as the
    /// system (`automatic_subsystem: reset-password`).
    pub async fn reset_password(&self, username: &str, password: String) -> Result<String, String> {
        let name = self.password_user(username).await?;
        validate_password(&password).map_err(|e| format!("password not strong enough: {e}"))?;
        let hashed = passwords::hash(password).await.map_err(|e| e.into_body().message)?;
        let user = users::get_by_username(&self.store, &name).await.map_err(|e| e.to_string())?;
        let mut tx = self.store.begin().await.map_err(|e| e.to_string())?;
        users::update_password(&mut tx, user.id, Some(&hashed), DbTime::now())
            .await
            .map_err(|e| e.to_string())?;
        api_keys::delete_by_user(&mut tx, user.id).await.map_err(|e| e.to_string())?;
        // The operator chose this password: no change is asked for at the next sign-in.
        password_resets::clear(&mut tx, user.id).await.map_err(|e| e.to_string())?;
        let mut entry = Entry::new("write", "user");
        entry.resource(user.id.uuid(), user.username.clone());
        entry.changed(&json!({"password": ""}), &json!({"password": "reset"}));
        entry.additional_fields = json!({"automatic_subsystem": "reset-password"});
        let meta = RequestMeta::internal("atrium reset-password");
        audit::write(&mut tx, &meta, &entry, 200).await.map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok(user.username)
    }

    pub async fn close(self) {
        self.store.close().await;
    }
}
