//! Organizations: those the caller may read. (Switcher, create, make default, members and
//! custom roles are still to come.)

use askama::Template;
use askama_web::WebTemplate;
use atrium_api::orgs::Organization;
use atrium_domain::orgs;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::WebState;
use crate::errors::PageResult;
use crate::session::{Chrome, Signed};

pub fn routes() -> Router<WebState> {
    Router::new().route("/organizations", get(list))
}

#[derive(Template, WebTemplate)]
#[template(path = "organizations.html")]
struct ListPage {
    chrome: Chrome,
    organizations: Vec<Organization>,
}

async fn list(State(state): State<WebState>, signed: Signed) -> PageResult {
    let organizations = orgs::list(&state, &signed.caller).await.map_err(|e| signed.fail(e))?;
    Ok(ListPage { chrome: signed.chrome("organizations"), organizations }.into_response())
}
