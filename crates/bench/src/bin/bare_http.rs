//! `scripts/bench-http`'s comparison server: a bare axum route answering
//! `GET /api/v2/workspaces/{workspace}` with fixed bytes — the authorized route's own response,
//! read once from a file — and nothing else: no middleware, no session, no database, no
//! authorization. Runs on the same Tokio runtime as `atrium server` (multi-threaded, one
//! worker per core it may run on).
//!
//! Also answers `GET /api/v2/users/me` with ME_BODY_FILE's bytes when given (the cached-session
//! comparison).
//!
//! Usage: `bench-bare-http ADDRESS BODY_FILE [ME_BODY_FILE]`.

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(address), Some(body)) = (args.next(), args.next()) else {
        eprintln!("usage: bench-bare-http ADDRESS BODY_FILE [ME_BODY_FILE]");
        return ExitCode::from(2);
    };
    match run(&address, &body, args.next()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-bare-http: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(address: &str, body: &str, me: Option<String>) -> Result<(), Box<dyn std::error::Error>> {
    let address: SocketAddr = address.parse()?;
    let body = Bytes::from(std::fs::read(body)?);
    let me = match me {
        Some(file) => Bytes::from(std::fs::read(file)?),
        None => Bytes::new(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let app = Router::new().route(
            "/api/v2/workspaces/{workspace}",
            get(move |Path(_workspace): Path<String>| {
                let body = body.clone();
                async move { ([(CONTENT_TYPE, "application/json")], body).into_response() }
            }),
        );
        let app = app.route(
            "/api/v2/users/me",
            get(move || {
                let me = me.clone();
                async move { ([(CONTENT_TYPE, "application/json")], me).into_response() }
            }),
        );
        let listener = tokio::net::TcpListener::bind(address).await?;
        axum::serve(listener, app).await?;
        Ok(())
    })
}
