//! A template's page: its versions (name, created, import status, which is active), Upload
//! version from a tar or zip archive, a version's import log (live while it runs) and Promote
//! for a version whose import succeeded. Upload and Promote are offered only to those who may
//! update the template ([`offers::template`]); the reasons are shown otherwise.

use askama::Template;
use askama_web::WebTemplate;
use atrium_api::templates::{
    CreateTemplateVersionRequest, Template as ApiTemplate, TemplateVersion as ApiVersion,
    UpdateActiveTemplateVersion,
};
use atrium_domain::files::MAX_FILE_BYTES;
use atrium_domain::offers::{self, TemplateOffers};
use atrium_domain::{Error, Page, files, template_versions, templates};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};

use crate::WebState;
use crate::errors::{PageResult, Problem};
use crate::log_events;
use crate::session::{Chrome, Signed};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/templates/{template}", get(page))
        .route(
            "/templates/{template}/versions",
            // Room for the archive plus the form's other fields and boundaries.
            post(upload).layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 64 * 1024)),
        )
        .route("/templates/{template}/versions/{version}", get(version_page))
        .route("/templates/{template}/versions/{version}/promote", post(promote))
        .route("/template-versions/{version}/log", get(follow_log))
}

/// What a template page shows of the template.
pub struct TemplateView {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub organization: String,
    pub description: String,
    pub provisioner: String,
}

impl TemplateView {
    pub(crate) fn new(t: &ApiTemplate) -> TemplateView {
        TemplateView {
            id: t.id.to_string(),
            name: t.name.clone(),
            display_name: t.display_name.clone(),
            organization: t.organization_display_name.clone(),
            description: t.description.clone(),
            provisioner: t.provisioner.clone(),
        }
    }
}

/// One version as a row.
pub struct VersionRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub created_by: String,
    pub status: String,
    pub active: bool,
    /// Promote is offered: it succeeded, is not active, and the caller may update.
    pub promote: bool,
}

impl VersionRow {
    fn new(v: &ApiVersion, active: uuid::Uuid, may_update: bool) -> VersionRow {
        let active = v.id == active;
        let status = v.job.status.clone();
        VersionRow {
            id: v.id.to_string(),
            name: v.name.clone(),
            created: shown_time(v.created_at),
            created_by: v.created_by.username.clone(),
            promote: may_update && !active && status == "succeeded",
            status,
            active,
        }
    }
}

/// A time as the dashboard shows it (UTC, to the minute).
pub fn shown_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "template.html")]
struct TemplatePage {
    chrome: Chrome,
    template: TemplateView,
    versions: Vec<VersionRow>,
    upload: bool,
    acl: bool,
    missing: Vec<(&'static str, Vec<String>)>,
    notice: Option<String>,
    problem: Option<Problem>,
}

async fn template_page(
    state: &WebState,
    signed: &Signed,
    template: &str,
    notice: Option<String>,
    problem: Option<Problem>,
) -> PageResult {
    let caller = &signed.caller;
    let fail = |e| signed.fail(e);
    let t = templates::get(state, caller, template).await.map_err(fail)?;
    let offers = offers::template(state, caller, template).await.map_err(fail)?;
    let may_update = offers.versions.allowed();
    let all = Page { limit: None, offset: 0 };
    let mut versions: Vec<VersionRow> = template_versions::list(state, caller, template, all, None)
        .await
        .map_err(fail)?
        .iter()
        .map(|v| VersionRow::new(v, t.active_version_id, may_update))
        .collect();
    // Newest first.
    versions.reverse();
    Ok(TemplatePage {
        chrome: signed.chrome("templates"),
        template: TemplateView::new(&t),
        versions,
        upload: may_update,
        acl: offers.read_acl.allowed(),
        missing: missing(&offers),
        notice,
        problem,
    }
    .into_response())
}

/// The refused actions, with the engine's reasons.
fn missing(offers: &TemplateOffers) -> Vec<(&'static str, Vec<String>)> {
    if offers.versions.allowed() {
        Vec::new()
    } else {
        vec![("Upload version", offers.versions.reasons().to_vec())]
    }
}

async fn page(
    State(state): State<WebState>,
    signed: Signed,
    Path(template): Path<String>,
) -> PageResult {
    template_page(&state, &signed, &template, None, None).await
}

/// An archive's content type, from its first bytes: zip files start with `PK\x03\x04`;
/// anything else is offered to the domain as a tar (which fails the import if it is not one).
fn archive_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"PK\x03\x04") { "application/zip" } else { "application/x-tar" }
}

/// The upload form: the archive and an optional version name.
struct UploadForm {
    archive: Vec<u8>,
    name: String,
    message: String,
}

async fn read_form(mut multipart: Multipart) -> Result<UploadForm, Error> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Error::new(atrium_domain::Kind::PayloadTooLarge, "File is too large.")
                .detail(format!("The maximum upload size is {} MiB.", MAX_FILE_BYTES >> 20))
        } else {
            Error::bad_request("The upload could not be read.").detail(e.body_text())
        }
    };
    let mut form = UploadForm { archive: Vec::new(), name: String::new(), message: String::new() };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "archive" => form.archive = field.bytes().await.map_err(bad)?.to_vec(),
            "name" => form.name = field.text().await.map_err(bad)?.trim().to_owned(),
            "message" => form.message = field.text().await.map_err(bad)?,
            _ => {}
        }
    }
    if form.archive.is_empty() {
        return Err(Error::bad_request("Choose an archive to upload.")
            .validation("archive", "a tar or zip file is required"));
    }
    Ok(form)
}

/// The template's page with a refused request's message, answered with the error's status.
async fn refused(state: &WebState, signed: &Signed, template: &str, e: Error) -> PageResult {
    let status = crate::errors::status_of(&e);
    let page = template_page(state, signed, template, None, Some(Problem::of(e))).await?;
    Ok((status, page).into_response())
}

/// Upload version: stores the archive, then queues its import as a version of this template
/// (with the template's provisioner) and shows the version with its log.
async fn upload(
    State(state): State<WebState>,
    signed: Signed,
    Path(template): Path<String>,
    multipart: Multipart,
) -> PageResult {
    let caller = &signed.caller;
    let fail = |e| signed.fail(e);
    let t = templates::get(&state, caller, &template).await.map_err(fail)?;
    // Refused before the archive is stored, so a refusal leaves no upload behind; the
    // version's creation decides again.
    let offers = offers::template(&state, caller, &template).await.map_err(fail)?;
    if !offers.versions.allowed() {
        return Err(fail(Error::forbidden().because(offers.versions.reasons().to_vec())));
    }
    let form = match read_form(multipart).await {
        Ok(f) => f,
        Err(e) => return refused(&state, &signed, &template, e).await,
    };
    let content_type = archive_type(&form.archive);
    let len = form.archive.len();
    let archive = form.archive;
    let uploaded =
        match files::upload(&state, caller, content_type, Some(len), async { Some(archive) }).await
        {
            Ok(u) => u,
            Err(e) => return refused(&state, &signed, &template, e).await,
        };
    let req = CreateTemplateVersionRequest {
        name: form.name,
        message: form.message,
        template_id: Some(t.id),
        storage_method: "file".into(),
        file_id: Some(uploaded.response.hash),
        provisioner: t.provisioner.clone(),
        ..CreateTemplateVersionRequest::default()
    };
    match template_versions::create(&state, caller, &t.organization_id.to_string(), req).await {
        Ok(v) => {
            Ok(Redirect::to(&format!("/templates/{}/versions/{}", t.id, v.id)).into_response())
        }
        Err(e) => refused(&state, &signed, &template, e).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "template_version.html")]
struct VersionPage {
    chrome: Chrome,
    template: TemplateView,
    version: VersionRow,
    message: String,
    job_error: String,
    /// The import is still queued or running: the log follows live.
    running: bool,
    log: String,
    missing: Vec<(&'static str, Vec<String>)>,
    notice: Option<String>,
}

async fn version_page(
    State(state): State<WebState>,
    signed: Signed,
    Path((template, version)): Path<(String, String)>,
) -> PageResult {
    let caller = &signed.caller;
    let fail = |e| signed.fail(e);
    let t = templates::get(&state, caller, &template).await.map_err(fail)?;
    let v = template_versions::get(&state, caller, &version).await.map_err(fail)?;
    if v.template_id != Some(t.id) {
        return Err(fail(Error::not_found()));
    }
    let offers = offers::template(&state, caller, &template).await.map_err(fail)?;
    let running = v.job.completed_at.is_none() && v.job.canceled_at.is_none();
    let log = if running {
        String::new()
    } else {
        let opened = template_versions::open_log(&state, caller, &version).await.map_err(fail)?;
        opened
            .lines(&state, 0)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|l| l.output)
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(VersionPage {
        chrome: signed.chrome("templates"),
        template: TemplateView::new(&t),
        version: VersionRow::new(&v, t.active_version_id, offers.versions.allowed()),
        message: v.message.clone(),
        job_error: v.job.error.clone(),
        running,
        log,
        missing: missing(&offers).into_iter().map(|(_, reasons)| ("Promote", reasons)).collect(),
        notice: None,
    }
    .into_response())
}

/// Promote: makes a succeeded version the active one (the domain refuses any other).
async fn promote(
    State(state): State<WebState>,
    signed: Signed,
    Path((template, version)): Path<(String, String)>,
) -> PageResult {
    let id = version.parse::<uuid::Uuid>().ok();
    let req = UpdateActiveTemplateVersion { id };
    match template_versions::set_active(&state, &signed.caller, &template, req).await {
        Ok(_) => {
            template_page(&state, &signed, &template, Some("Version promoted.".into()), None).await
        }
        Err(e) => refused(&state, &signed, &template, e).await,
    }
}

/// A version's import log as server-sent events ([`log_events::follow`]).
async fn follow_log(
    State(state): State<WebState>,
    signed: Signed,
    Path(version): Path<String>,
) -> PageResult {
    let log = template_versions::open_log(&state, &signed.caller, &version)
        .await
        .map_err(|e| signed.fail(e))?;
    Ok(log_events::follow(&state, log, "an import log"))
}
