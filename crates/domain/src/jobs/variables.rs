//! Template variables at run time: an import reads the `variable` blocks of the source's root
//! module ([`super::tf_variables`]), gives each the user's value or its default, records them
//! on the version, and fails when a required one has no value (Coder's "required template
//! variables need values"); builds and dry-runs pass the recorded values to terraform as
//! `TF_VAR_<name>`. The `atrium_*` variables are the server's own (set on every build), so they
//! are neither recorded nor required.

use std::path::Path;

use atrium_store::TemplateVersionId;
use atrium_store::template_variables::{self, TemplateVariable};

use super::Failure;
use super::provisioner::Run;
use super::tf_variables::parse_module;

/// The prefix of the variables Atrium sets itself.
const SERVER_PREFIX: &str = "atrium_";

/// The version an import or dry-run job is about (its input's `template_version_id`).
pub(super) fn job_version(run: &Run<'_>) -> Result<TemplateVersionId, Failure> {
    run.job
        .input
        .0
        .get("template_version_id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Failure::job("the job names no template version"))
}

/// Reads the root module's variables from the unpacked source in `src`, records them with
/// their values on the job's version, and fails if a required one got no value.
pub(super) async fn import(run: &Run<'_>, src: &Path) -> Result<(), Failure> {
    let version = job_version(run)?;
    let mut files = Vec::new();
    let entries = std::fs::read_dir(src)
        .map_err(|e| Failure::job(format!("cannot read the template source: {e}")))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tf") && entry.file_type().is_ok_and(|t| t.is_file()) {
            let text = std::fs::read_to_string(entry.path())
                .map_err(|e| Failure::job(format!("cannot read {name}: {e}")))?;
            files.push((name, text));
        }
    }
    let declared = parse_module(&files)
        .map_err(|e| Failure::job(format!("cannot read the template's variables: {e}")))?;
    let given: Vec<(String, String)> = run
        .job
        .input
        .0
        .get("user_variable_values")
        .and_then(|v| v.as_array())
        .map(|values| {
            values
                .iter()
                .filter_map(|v| {
                    Some((v["name"].as_str()?.to_owned(), v["value"].as_str()?.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for (position, v) in
        declared.into_iter().filter(|v| !v.name.starts_with(SERVER_PREFIX)).enumerate()
    {
        let value = given
            .iter()
            .find(|(name, _)| *name == v.name)
            .map_or_else(|| v.default_value.clone(), |(_, value)| value.clone());
        if v.required && value.is_empty() {
            missing.push(v.name.clone());
        }
        rows.push(TemplateVariable {
            template_version_id: version,
            name: v.name,
            position: i32::try_from(position).unwrap_or(i32::MAX),
            description: v.description,
            type_: v.type_,
            default_value: v.default_value,
            value,
            required: v.required,
            sensitive: v.sensitive,
        });
    }
    let mut tx = run.store.begin().await?;
    template_variables::replace(&mut tx, version, &rows).await?;
    tx.commit().await?;
    let shown: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    if !shown.is_empty() {
        let line = format!("Template variables: {}", shown.join(", "));
        run.log.info(super::provisioner::STAGE_PARSE, &line).await;
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Failure::job(format!(
            "required template variables need values: {}",
            missing.join(", ")
        )))
    }
}

/// The version's recorded variable values as terraform environment (`TF_VAR_<name>`).
pub(super) async fn env(
    run: &Run<'_>,
    version: TemplateVersionId,
) -> Result<Vec<(String, String)>, Failure> {
    let rows = template_variables::list(run.store, version).await?;
    Ok(rows.into_iter().map(|v| (format!("TF_VAR_{}", v.name), v.value)).collect())
}
