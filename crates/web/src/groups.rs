//! Groups: those the caller may read, across organizations. (Create, members and delete are
//! still to come.)

use askama::Template;
use askama_web::WebTemplate;
use atrium_api::orgs::Group;
use atrium_domain::groups;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::WebState;
use crate::errors::PageResult;
use crate::session::{Chrome, Signed};

pub fn routes() -> Router<WebState> {
    Router::new().route("/groups", get(list))
}

#[derive(Template, WebTemplate)]
#[template(path = "groups.html")]
struct ListPage {
    chrome: Chrome,
    groups: Vec<Group>,
}

async fn list(State(state): State<WebState>, signed: Signed) -> PageResult {
    let groups =
        groups::list(&state, &signed.caller, None, None).await.map_err(|e| signed.fail(e))?;
    Ok(ListPage { chrome: signed.chrome("groups"), groups }.into_response())
}
