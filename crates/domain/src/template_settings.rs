//! The settings of Coder's `PATCH /templates/{id}` that Atrium does not store: scheduling
//! (TTLs, activity bump, autostart and autostop requirements, who may schedule), dormancy,
//! deprecation, `require_active_version`, port sharing, CORS and the parameter flow. Coder
//! applies them; Atrium reports fixed values for them on every template. Silently ignoring a
//! change would tell the client it happened, so a setting is accepted only at the value the
//! template reports, or at Go's zero value (which codersdk leaves out of the body, so Coder
//! cannot tell it from absent either); any other value is a 400 naming the field.

use atrium_api::templates::{Template, UnstoredTemplateSettings};
use serde_json::Value;

use crate::{Error, Result};

/// Whether `v` is the zero value Go omits (`0`, `false`, `""`, `null`, an empty list).
fn is_go_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(_) => false,
    }
}

/// `a` and `b` are the same value, a `null` list counting as an empty one (Go's nil slice).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Array(x)) | (Value::Array(x), Value::Null) => x.is_empty(),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Refuses any unstored setting sent with a value other than the template's reported one.
pub(crate) fn refuse_changes(current: &Template, sent: &UnstoredTemplateSettings) -> Result<()> {
    let reported = serde_json::to_value(current).map_err(Error::internal)?;
    // Coder's CORS default; Atrium's template has no CORS setting to report.
    let defaults = [
        ("cors_behavior", Value::from("simple")),
        ("update_workspace_last_used_at", Value::Bool(false)),
        ("update_workspace_dormant_at", Value::Bool(false)),
    ];
    let mut refused =
        Error::bad_request("Atrium does not support changing these template settings.");
    let mut any = false;
    for (field, value) in sent.sent() {
        let Some(value) = value else { continue };
        let current = reported
            .get(field)
            .cloned()
            .or_else(|| defaults.iter().find(|(f, _)| *f == field).map(|(_, v)| v.clone()))
            .unwrap_or(Value::Null);
        if is_go_zero(value) || same(value, &current) {
            continue;
        }
        any = true;
        refused = refused.validation(
            field,
            format!(
                "Atrium does not store this setting; only its current value {current} is accepted."
            ),
        );
    }
    if any { Err(refused) } else { Ok(()) }
}
