//! `atrium authz check FILE`: decide a JSON array of requests offline with the engine.

use std::io::Read;
use std::path::PathBuf;

use atrium_engine::request::{CompiledRequest, RawRequest};
use serde::Serialize;

/// Bad input: the message names the request index and the field.
#[derive(Debug)]
pub struct InputError(pub String);

#[derive(Serialize)]
struct Output<'a> {
    allowed: bool,
    reasons: &'a [String],
}

/// Reads the requests, decides them all, and returns the lines to print.
pub fn check(file: &PathBuf, explain: bool) -> Result<Vec<String>, InputError> {
    let text = read_input(file)?;
    let requests = parse(&text)?;
    let mut lines = Vec::with_capacity(requests.len());
    for (i, request) in requests.iter().enumerate() {
        let object = request.object.as_object();
        let decision = request.subject.authorize(request.action, &object);
        let reasons = request.subject.explain(&decision, request.action, &object);
        if explain {
            let verdict = if decision.allowed { "ALLOWED" } else { "DENIED" };
            lines.push(format!(
                "request {i}: {verdict}: `{}` on `{}`",
                request.action, request.object.resource_type
            ));
            lines.extend(reasons.iter().map(|r| format!("  - {r}")));
        } else {
            let out = Output { allowed: decision.allowed, reasons: &reasons };
            lines.push(serde_json::to_string(&out).map_err(|e| InputError(e.to_string()))?);
        }
    }
    Ok(lines)
}

fn read_input(file: &PathBuf) -> Result<String, InputError> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| InputError(format!("cannot read standard input: {e}")))?;
        Ok(text)
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| InputError(format!("cannot read `{}`: {e}", file.display())))
    }
}

/// Parses and compiles every request before any is decided, so bad input prints no partial
/// output.
pub fn parse(text: &str) -> Result<Vec<CompiledRequest>, InputError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: Vec<RawRequest> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return InputError(format!("input is not valid JSON: {inner}"));
        }
        InputError(match split_index(&path) {
            Some((i, "")) => format!("request {i}: {inner}"),
            Some((i, field)) => format!("request {i}: field `{field}`: {inner}"),
            None => format!("input must be a JSON array of requests: {inner}"),
        })
    })?;
    raw.iter()
        .enumerate()
        .map(|(i, r)| {
            r.compile()
                .map_err(|e| InputError(format!("request {i}: field `{}`: {}", e.field, e.message)))
        })
        .collect()
}

/// `[3].subject.id` → `(3, "subject.id")`.
fn split_index(path: &str) -> Option<(usize, &str)> {
    let rest = path.strip_prefix('[')?;
    let (index, rest) = rest.split_once(']')?;
    Some((index.parse().ok()?, rest.strip_prefix('.').unwrap_or(rest)))
}
