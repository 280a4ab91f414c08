//! The request-field checks every create/update route calls, one line each: Coder's limits and
//! shapes (rules in `atrium_engine::name`), refused with 400 `Validation failed.` and a
//! validations entry naming the field.

use atrium_engine::name;

use crate::error::{Error, Result, text};

/// Longest template description (Coder: `validate:"lt=128"`).
pub const TEMPLATE_DESCRIPTION_MAX: usize = 127;
/// Longest organization description (Coder sets none; Atrium bounds it).
pub const ORG_DESCRIPTION_MAX: usize = 1024;
/// Longest template-version message (Coder: `validate:"lt=1048577"`).
pub const VERSION_MESSAGE_MAX: usize = 1_048_576;

fn failed(field: &str, detail: impl Into<String>) -> Error {
    Error::bad_request(text::VALIDATION_FAILED).validation(field, detail)
}

/// A display name (`field` is its JSON name).
pub fn display_name(field: &str, value: &str) -> Result<()> {
    name::validate_display_name(value).map_err(|e| failed(field, e))
}

/// A user's real name (`name`).
pub fn real_name(value: &str) -> Result<()> {
    name::validate_real_name(value).map_err(|e| failed("name", e))
}

/// An email address (`email`), required.
pub fn email(value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::required("email"));
    }
    if !name::email_valid(value) {
        return Err(Error::tag_failed("email", "email", value));
    }
    Ok(())
}

/// Free text of at most `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<()> {
    if name::text_valid(value, max) {
        Ok(())
    } else {
        Err(failed(field, format!("must be at most {max} characters, without control characters")))
    }
}

/// An icon or avatar URL: http(s) or a path on this server.
pub fn icon_url(field: &str, value: &str) -> Result<()> {
    if name::icon_url_valid(value) {
        Ok(())
    } else {
        Err(failed(
            field,
            format!(
                "must be an http(s) URL or a path on this server (such as /icon/…), at most {} characters",
                name::URL_MAX
            ),
        ))
    }
}

/// An API token's name (Coder's name rule; empty means a generated one).
pub fn token_name(value: &str) -> Result<()> {
    if value.is_empty() {
        return Ok(());
    }
    name::validate_name(value).map_err(|e| failed("token_name", e.to_string()))
}
