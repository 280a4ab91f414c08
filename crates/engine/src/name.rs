//! Coder's name rule (`codersdk.NameValid`) for usernames, org, template, workspace and role
//! names, and the other text rules every create/update route applies: display names, a user's
//! real name, emails, bounded free text, icon and avatar URLs.

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

/// Display names (`codersdk.DisplayNameValid`): empty, or at most [`DISPLAY_NAME_MAX`]
/// characters that neither start nor end with whitespace. The error is Coder's text.
pub fn validate_display_name(s: &str) -> Result<(), &'static str> {
    if s.chars().count() > DISPLAY_NAME_MAX {
        return Err("must be <= 64 characters");
    }
    if s.trim() != s {
        return Err("must be alphanumeric with spaces");
    }
    Ok(())
}
pub const DISPLAY_NAME_MAX: usize = 64;

/// A user's real name (`codersdk.UserRealNameValid`): at most [`REAL_NAME_MAX`] characters, no
/// surrounding whitespace.
pub fn validate_real_name(s: &str) -> Result<(), &'static str> {
    if s.chars().count() > REAL_NAME_MAX {
        return Err("must be <= 128 characters");
    }
    if s.trim() != s {
        return Err("must not have leading or trailing whitespace");
    }
    Ok(())
}
pub const REAL_NAME_MAX: usize = 128;

/// An email address: `local@domain`, one `@`, at most 254 characters; the local part is
/// printable ASCII without spaces or the specials `()<>[]:;@\,"`, the domain is dot-separated
/// labels of ASCII letters, digits and inner hyphens (at least two labels).
pub fn email_valid(s: &str) -> bool {
    if s.len() > 254 {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else { return false };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.bytes().all(|b| b.is_ascii_graphic() && !b"()<>[]:;@\\,\"".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    local_ok && domain_ok
}

/// Free text (descriptions, messages) of at most `max` characters, without control characters
/// other than newlines and tabs.
pub fn text_valid(s: &str, max: usize) -> bool {
    s.chars().count() <= max && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// The longest icon or avatar URL accepted.
pub const URL_MAX: usize = 2048;

/// An icon or avatar URL: empty (none), an `http(s)://` URL with a host, or a path on this
/// server (`/icon/…`, `/emojis/…`: one leading slash). Never another scheme (`javascript:`,
/// `data:`), never whitespace or control characters.
pub fn icon_url_valid(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    if s.len() > URL_MAX || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    if let Some(path) = s.strip_prefix('/') {
        return !path.starts_with('/') && !path.starts_with('\\');
    }
    let lower = s.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.starts_with('@')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert_eq!(validate_display_name(""), Ok(()));
        assert_eq!(validate_display_name("My Template"), Ok(()));
        assert!(validate_display_name(" x").is_err());
        assert!(validate_display_name(&"a".repeat(65)).is_err());
        assert_eq!(validate_display_name(&"é".repeat(64)), Ok(()));
        assert_eq!(validate_real_name(&"a".repeat(128)), Ok(()));
        assert!(validate_real_name(&"a".repeat(129)).is_err());
        for ok in ["a@b.co", "first.last+tag@example.com", "x_y@sub.example-1.org"] {
            assert!(email_valid(ok), "{ok}");
        }
        for bad in ["a@b@c<script>", "a@b", "@b.co", "a@.co", "a b@c.co", "a@b..co", "a@-b.co", ""]
        {
            assert!(!email_valid(bad), "{bad}");
        }
        for ok in
            ["", "/icon/code.svg", "/emojis/1f600.png", "https://example.com/a.png", "HTTP://h/x"]
        {
            assert!(icon_url_valid(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:image/png;base64,x",
            "//evil.com/x",
            "https://",
            "ftp://h/x",
            "/a b",
            "icon.png",
        ] {
            assert!(!icon_url_valid(bad), "{bad}");
        }
        assert!(text_valid("line\nnext", 128));
        assert!(!text_valid(&"a".repeat(129), 128));
        assert!(!text_valid("nul\0", 128));
    }

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
