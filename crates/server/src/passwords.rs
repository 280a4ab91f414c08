//! Argon2id password hashes (PHC strings), computed off the async runtime.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::error::ApiError;

/// A PHC hash of a password that never matches, so an unknown email costs the same time as a
/// wrong password (no user enumeration by timing).
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Wb1Kkv3Kp7+fJvC8VgCq4w7oC0Ktl5U3s6x7cQ2mYlQ";

/// Hashes a password.
pub async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// Verifies a password against a stored hash (or the dummy when there is none).
pub async fn verify(password: String, hashed: Option<String>) -> bool {
    let found = hashed.is_some();
    let phc = hashed.unwrap_or_else(|| DUMMY.to_owned());
    let ok = tokio::task::spawn_blocking(move || match PasswordHash::new(&phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    })
    .await
    .unwrap_or(false);
    ok && found
}
