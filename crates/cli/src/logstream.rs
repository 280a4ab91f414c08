//! Following a provisioner job's log the way Coder's clients do: `GET .../logs?follow&after=N`
//! upgraded to a WebSocket, one JSON `ProvisionerJobLog` per text message, closed by the
//! server when the job ends (or when the reader lost access: the caller checks the job).

use std::time::Duration;

use atrium_api::templates::ProvisionerJobLog;
use futures_util::StreamExt;
use reqwest::Method;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::client::{Client, SESSION_HEADER, api_error};
use crate::error::{CliError, CliResult};

/// How long a socket may stay silent before the CLI treats it as dropped (the server pings
/// every 15 s).
const IDLE: Duration = Duration::from_secs(45);

pub struct LogStream {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    url: String,
}

impl Client {
    /// Opens a followed log at `path` (which carries `?follow`). A refused upgrade is the
    /// server's error ([`CliError::Api`]).
    pub async fn follow_logs(&self, path: &str) -> CliResult<LogStream> {
        let url = format!("{}{path}", self.url);
        let ws_url = match url.split_once("://") {
            Some(("https", rest)) => format!("wss://{rest}"),
            Some((_, rest)) => format!("ws://{rest}"),
            None => url.clone(),
        };
        let connect = |cause: String| CliError::Connect { url: self.url.clone(), cause };
        let mut request = ws_url.into_client_request().map_err(|e| connect(e.to_string()))?;
        if let Some(token) = &self.token {
            let value = HeaderValue::from_str(token).map_err(|e| connect(e.to_string()))?;
            request.headers_mut().insert(SESSION_HEADER, value);
        }
        request.headers_mut().insert(
            "user-agent",
            HeaderValue::from_static(concat!("atrium-cli/", env!("CARGO_PKG_VERSION"))),
        );
        let handshake = tokio_tungstenite::connect_async(request);
        let socket = match tokio::time::timeout(Duration::from_secs(10), handshake).await {
            Ok(Ok((socket, _))) => socket,
            Ok(Err(tungstenite::Error::Http(response))) => {
                let status = reqwest::StatusCode::from_u16(response.status().as_u16())
                    .unwrap_or(reqwest::StatusCode::BAD_GATEWAY);
                let body = response.body().clone().unwrap_or_default();
                return Err(api_error(&Method::GET, path, status, &body));
            }
            Ok(Err(e)) => return Err(connect(e.to_string())),
            Err(_) => return Err(connect("the log socket did not open within 10s".into())),
        };
        Ok(LogStream { socket, url })
    }
}

impl LogStream {
    /// The next line; `Ok(None)` once the socket ended (closed by the server, dropped, or
    /// silent for too long: the caller asks the job whether it ended).
    pub async fn next(&mut self) -> CliResult<Option<ProvisionerJobLog>> {
        loop {
            let Ok(next) = tokio::time::timeout(IDLE, self.socket.next()).await else {
                return Ok(None);
            };
            match next {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(&text).map(Some).map_err(|e| CliError::Protocol {
                        url: self.url.clone(),
                        cause: format!("a log line is not what Atrium sends ({e})"),
                    });
                }
                Some(Ok(Message::Close(_))) => {
                    // Completes the closing handshake; the server is done either way.
                    let _ = self.socket.close(None).await;
                    return Ok(None);
                }
                Some(Err(_)) | None => return Ok(None),
                Some(Ok(_)) => {}
            }
        }
    }
}
