//! Runs every case file under `tests/cases/`: each case is a request in the `atrium authz
//! check` format with the answer Coder gives (rbac.md), and optionally the reason kind.

use std::collections::BTreeSet;
use std::path::Path;

use atrium_engine::request::RawRequest;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    request: RawRequest,
    allowed: bool,
    #[serde(default)]
    reason: Option<String>,
}

#[test]
fn every_case_file_decides_as_coder_does() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut names = BTreeSet::new();
    let mut failures = Vec::new();
    let mut total = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let cases: Vec<Case> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for case in cases {
            total += 1;
            assert!(names.insert(case.name.clone()), "duplicate case name {}", case.name);
            let compiled = case
                .request
                .compile()
                .unwrap_or_else(|e| panic!("{}: case {}: {e}", file.display(), case.name));
            let object = compiled.object.as_object();
            let decision = compiled.subject.authorize(compiled.action, &object);
            let first_reason = decision.reasons().next().map(|r| r.kind());
            let reason_ok = case.reason.as_deref().is_none_or(|r| Some(r) == first_reason);
            if decision.allowed != case.allowed || !reason_ok {
                failures.push(format!(
                    "{} ({}): expected allowed={} reason={:?}, got allowed={} reason={:?}: {:?}",
                    case.name,
                    file.file_name().unwrap().to_string_lossy(),
                    case.allowed,
                    case.reason,
                    decision.allowed,
                    first_reason,
                    compiled.subject.explain(&decision, compiled.action, &object),
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 200, "only {total} cases; the engine issue asks for at least 200");
}
