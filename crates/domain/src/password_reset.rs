//! An admin's "Reset password" (seed 004): a generated temporary password, shown to the admin
//! once, that its user must replace right after signing in.

use atrium_api::users::UpdateUserPasswordRequest;
use atrium_store::password_resets;

use crate::{Caller, Domain, Error, Result};

/// Sets a fresh temporary password on `user` (someone other than the caller) and returns it.
/// Authorized and audited as [`crate::users::update_password`] without the old password: the
/// user's sessions end, and the user is asked for a new password at the next sign-in.
pub async fn reset(d: &Domain, caller: &Caller, user: &str) -> Result<String> {
    let target = crate::users::resolve_user(d, caller, user).await?;
    if target.id == caller.id() {
        return Err(Error::bad_request("Change your own password from your account instead."));
    }
    let password = temporary_password().map_err(Error::internal)?;
    let req = UpdateUserPasswordRequest { old_password: String::new(), password: password.clone() };
    crate::users::update_password(d, caller, &target.username, &req).await?;
    Ok(password)
}

/// Whether the caller's password was set by someone else and must be changed first.
pub async fn must_change(d: &Domain, caller: &Caller) -> Result<bool> {
    Ok(password_resets::is_marked(d.store(), caller.id()).await?)
}

/// 20 random characters from four classes (letters of both cases, digits, symbols), always
/// one of each, so Coder's strength rule always passes.
fn temporary_password() -> std::result::Result<String, getrandom::Error> {
    const CLASSES: [&[u8]; 4] =
        [b"abcdefghijkmnopqrstuvwxyz", b"ABCDEFGHJKLMNPQRSTUVWXYZ", b"23456789", b"!#%+-=?@"];
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)?;
    Ok(bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let class = CLASSES[if i < 4 { i } else { usize::from(*b) % 4 }];
            char::from(class[usize::from(*b) % class.len()])
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn temporary_passwords_are_strong_and_differ() {
        let a = super::temporary_password().unwrap_or_default();
        let b = super::temporary_password().unwrap_or_default();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(atrium_engine::password::validate_password(&a).is_ok(), "{a}");
    }
}
