//! Coder's name rule (`codersdk.NameValid`) for usernames, org, template, workspace and role
//! names.

/// Why a name is refused; `Display` is Coder's text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must be <= 32 characters")]
    TooLong,
    #[error("must be >= 1 character")]
    Empty,
    #[error("cannot use \"{0}\" as a name")]
    Reserved(String),
    #[error("must be alphanumeric with hyphens")]
    BadCharacters,
}

/// 1–32 ASCII alphanumeric runs joined by single hyphens, and not `new` or `create` (which
/// would clash with routes such as `/templates/new`).
pub fn validate_name(s: &str) -> Result<(), NameError> {
    if s.len() > 32 {
        return Err(NameError::TooLong);
    }
    if s.is_empty() {
        return Err(NameError::Empty);
    }
    if s == "new" || s == "create" {
        return Err(NameError::Reserved(s.to_owned()));
    }
    let runs_ok =
        s.split('-').all(|run| !run.is_empty() && run.bytes().all(|b| b.is_ascii_alphanumeric()));
    if runs_ok { Ok(()) } else { Err(NameError::BadCharacters) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_coder_rules() {
        assert_eq!(validate_name("cr-workspace-startstop"), Ok(()));
        assert_eq!(validate_name("Owner"), Ok(()));
        assert_eq!(validate_name(""), Err(NameError::Empty));
        assert_eq!(validate_name(&"a".repeat(33)), Err(NameError::TooLong));
        assert_eq!(validate_name("new").unwrap_err().to_string(), "cannot use \"new\" as a name");
        for bad in ["-a", "a-", "a--b", "a_b", "a b", "é"] {
            assert_eq!(validate_name(bad), Err(NameError::BadCharacters), "{bad}");
        }
    }
}
