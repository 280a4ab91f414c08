//! HTTP hardening: cross-site requests with the session cookie, NUL characters, password-check
//! limits, server-side request ids, slow clients and the connection cap, credentials in logs.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::both_backends;
use crate::common::{Client, PASSWORD, TestServer, unique};

fn cookie(token: &str) -> String {
    format!("coder_session_token={token}")
}

fn host_origin(server: &TestServer) -> String {
    server.url.clone()
}

async fn user_exists(server: &TestServer, username: &str) -> bool {
    server.owner.get(&format!("/api/v2/users/{username}")).await.status == StatusCode::OK
}

both_backends!(cross_site_cookie_requests_are_refused, |server: TestServer| async move {
    let token = server.owner.token.clone().unwrap();
    let anon = server.anonymous();
    let new_user = |name: &str| {
        json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD})
            .to_string()
    };

    // A cross-site form post carrying JSON as text/plain, and as a urlencoded form.
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/json"] {
        let name = unique("csrf");
        let r = anon
            .send_raw(
                anon.request(Method::POST, "/api/v2/users")
                    .header("cookie", cookie(&token))
                    .header("origin", "https://evil.example")
                    .header("content-type", content_type)
                    .body(new_user(&name)),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{content_type}: {}", r.body);
        assert_eq!(r.message(), "Cross-site request refused.");
        assert!(!user_exists(&server, &name).await, "{content_type}: the user was created");
    }

    // No Origin, but the browser says cross-site (or its Referer does): no token is created.
    for (header, value) in
        [("sec-fetch-site", "cross-site"), ("referer", "https://evil.example/steal.html")]
    {
        let r = anon
            .send_raw(
                anon.request(Method::POST, "/api/v2/users/me/keys/tokens")
                    .header("cookie", cookie(&token))
                    .header(header, value)
                    .header("content-type", "text/plain")
                    .body(r#"{"token_name":"stolen"}"#),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{header}: {}", r.body);
    }
    let tokens = server.owner.get("/api/v2/users/me/keys/tokens").await;
    assert!(!tokens.body.to_string().contains("stolen"), "{}", tokens.body);

    // Template versions (whose import runs the archive's Terraform) likewise.
    let r = anon
        .send_raw(
            anon.request(
                Method::POST,
                &format!("/api/v2/organizations/{}/templateversions", server.default_org),
            )
            .header("cookie", cookie(&token))
            .header("origin", "https://evil.example")
            .header("content-type", "text/plain")
            .body(r#"{"storage_method":"file","file_id":"00000000-0000-0000-0000-000000000000","provisioner":"echo"}"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // A cookie-authenticated WebSocket upgrade from another site.
    let r = anon
        .send_raw(
            anon.request(Method::GET, "/api/v2/users/me")
                .header("cookie", cookie(&token))
                .header("origin", "https://evil.example")
                .header("upgrade", "websocket"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // Reads with the cookie from anywhere still work (nothing changes).
    let r = anon
        .send_raw(
            anon.request(Method::GET, "/api/v2/users/me")
                .header("cookie", cookie(&token))
                .header("origin", "https://evil.example"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // From the same site: JSON is accepted, a form body is not.
    let name = unique("same");
    let r = anon
        .send_raw(
            anon.request(Method::POST, "/api/v2/users")
                .header("cookie", cookie(&token))
                .header("origin", host_origin(&server))
                .header("content-type", "application/json")
                .body(new_user(&name)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let name = unique("same");
    let r = anon
        .send_raw(
            anon.request(Method::POST, "/api/v2/users")
                .header("cookie", cookie(&token))
                .header("sec-fetch-site", "same-origin")
                .header("content-type", "text/plain")
                .body(new_user(&name)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    assert!(!user_exists(&server, &name).await);

    // The header token keeps Coder's behaviour: any origin, any content type (curl -d).
    let name = unique("hdr");
    let r = server
        .owner
        .send_raw(
            server
                .owner
                .request(Method::POST, "/api/v2/users")
                .header("cookie", cookie(&token))
                .header("origin", "https://evil.example")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(new_user(&name)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
});

async fn login_cookie(client: &Client) -> String {
    let r = client
        .send(
            Method::POST,
            "/api/v2/users/login",
            &json!({"email": "owner@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned()
}

both_backends!(session_cookie_is_secure_behind_https, |mut server: TestServer| async move {
    let plain = login_cookie(&server.anonymous()).await;
    assert!(!plain.contains("Secure"), "{plain}");
    server.restart(|c| c.access_url = Some("https://atrium.example".into())).await;
    let secure = login_cookie(&server.anonymous()).await;
    assert!(secure.ends_with("; Secure"), "{secure}");
    let out = server.owner.send_empty(Method::POST, "/api/v2/users/logout").await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    let cleared = out.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cleared.contains("Secure"), "{cleared}");
});

both_backends!(nul_characters_are_bad_requests, |server: TestServer| async move {
    let anon = server.anonymous();
    let r = anon
        .send(
            Method::POST,
            "/api/v2/users/login",
            &json!({"email": "own\u{0}er@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = server
        .owner
        .send(
            Method::POST,
            "/api/v2/users",
            &json!({"email": "nul@example.com", "username": "nu\u{0}l", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = server.owner.get("/api/v2/users?q=status%3Aactive%00").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = server.owner.get("/api/v2/users/own%00er").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = server.owner.get("/api/v2/organizations/def%00ault/members").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // The server still answers normally.
    assert_eq!(server.owner.get("/api/v2/users/me").await.status, StatusCode::OK);
});

// Wrong old passwords get 429 once the per-user limit is spent (each check runs Argon2).
both_backends!(wrong_old_passwords_are_rate_limited, |mut server: TestServer| async move {
    let limit = 3;
    server.restart(|c| c.login_rate_limit = limit).await;
    let change = |old: &str| json!({"old_password": old, "password": "Another-Secure-Pass-2!"});
    for _ in 0..limit {
        let r = server
            .owner
            .send(Method::PUT, "/api/v2/users/me/password", &change("Not-The-Password-1!"))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.message(), "Old password is incorrect.");
    }
    // Even the right password is refused now, without a check.
    let r = server.owner.send(Method::PUT, "/api/v2/users/me/password", &change(PASSWORD)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    // The password did not change.
    let r = server
        .anonymous()
        .send(
            Method::POST,
            "/api/v2/users/login",
            &json!({"email": "owner@example.com", "password": "Another-Secure-Pass-2!"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
});

both_backends!(request_ids_are_generated_by_the_server, |server: TestServer| async move {
    // Moved whole: a closure capturing only `server.owner` would drop (and stop) the server.
    let server = server;
    let chosen = "11111111-2222-4333-8444-555555555555";
    let name = unique("rid");
    let r = server
        .owner
        .send_raw(server.owner.request(Method::POST, "/api/v2/users").header("x-request-id", chosen).json(
            &json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let answered = r.headers.get("x-request-id").unwrap().to_str().unwrap().to_owned();
    assert_ne!(answered, chosen);
    let logs = server.owner.get("/api/v2/audit?q=resource_type:user").await;
    assert_eq!(logs.status, StatusCode::OK, "{}", logs.body);
    let row = logs.body["audit_logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["resource_target"] == Value::String(name.clone()))
        .unwrap_or_else(|| panic!("no audit row for {name}: {}", logs.body))
        .clone();
    assert_ne!(row["request_id"], chosen);
    assert_eq!(row["request_id"], Value::String(answered));
});

/// Reads one HTTP/1.1 response (head and a `Content-Length` body) from a kept-alive stream.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    loop {
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return text;
            }
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed mid-response: {text}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: atrium\r\n\r\n";

/// Waits until the server closes the connection (a guard against hanging, not a timing check).
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut sink = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut sink)).await.is_ok()
}

both_backends!(slow_clients_are_disconnected, |mut server: TestServer| async move {
    server.restart(|c| c.http_header_read_timeout = Duration::from_millis(300)).await;
    let addr = server.url.trim_start_matches("http://").to_owned();
    // Sends nothing at all.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    // Sends half a header.
    let mut half = TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"GET /api/v2/buildinfo HTTP/1.1\r\nHost: atr").await.unwrap();
    // A complete request is answered, then the idle kept-alive connection is closed too.
    let mut done = TcpStream::connect(&addr).await.unwrap();
    done.write_all(HEALTHZ).await.unwrap();
    assert!(read_response(&mut done).await.starts_with("HTTP/1.1 200"));
    assert!(closed_by_server(&mut silent).await, "a silent connection stayed open");
    assert!(closed_by_server(&mut half).await, "a half-sent header stayed open");
    assert!(closed_by_server(&mut done).await, "an idle connection stayed open");
    // Real clients are still served.
    assert_eq!(server.owner.get("/api/v2/users/me").await.status, StatusCode::OK);
});

both_backends!(
    connections_beyond_the_cap_wait_for_a_free_slot,
    |mut server: TestServer| async move {
        server.restart(|c| c.http_max_connections = Some(2)).await;
        let addr = server.url.trim_start_matches("http://").to_owned();
        // Two connections take both slots (each answered, so each was accepted).
        let mut first = TcpStream::connect(&addr).await.unwrap();
        first.write_all(HEALTHZ).await.unwrap();
        assert!(read_response(&mut first).await.starts_with("HTTP/1.1 200"));
        let mut second = TcpStream::connect(&addr).await.unwrap();
        second.write_all(HEALTHZ).await.unwrap();
        assert!(read_response(&mut second).await.starts_with("HTTP/1.1 200"));
        // A third connects (the kernel queues it) and sends its request.
        let mut third = TcpStream::connect(&addr).await.unwrap();
        third.write_all(HEALTHZ).await.unwrap();
        // The server keeps serving the first connection meanwhile...
        for _ in 0..20 {
            first.write_all(HEALTHZ).await.unwrap();
            assert!(read_response(&mut first).await.starts_with("HTTP/1.1 200"));
        }
        // ...but has not accepted the third.
        let mut probe = [0u8; 64];
        assert!(
            matches!(third.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "the third connection was served beyond the cap"
        );
        // Once a slot frees, it is.
        drop(first);
        assert!(read_response(&mut third).await.starts_with("HTTP/1.1 200"));
        drop((second, third));
        server.stop().await;
    }
);

both_backends!(credentials_never_reach_the_log, |server: TestServer| async move {
    let logs = crate::common::logs::captured_logs();
    let token = server.owner.token.clone().unwrap();
    let anon = server.anonymous();
    let r = anon.get(&format!("/api/v2/users/me?coder_session_token={token}")).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = anon
        .send_raw(anon.request(Method::GET, "/api/v2/users/me").header("cookie", cookie(&token)))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = server.owner.get("/api/v2/users/me?marker=logged").await;
    assert_eq!(r.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    // The requests were logged (at debug and trace level)...
    assert!(text.contains("/api/v2/users/me?marker=logged"), "nothing logged: {text}");
    assert!(text.contains("coder_session_token=REDACTED"), "{text}");
    // ...without the token's secret anywhere.
    let secret = token.split_once('-').map_or(token.as_str(), |(_, s)| s);
    assert!(!text.contains(secret), "the session secret was logged");
});

both_backends!(a_cross_site_form_cannot_sign_a_browser_in, |server: TestServer| async move {
    // Login CSRF: the attacker's own credentials, posted from another site, must not set a
    // session cookie in the victim's browser.
    let anon = server.anonymous();
    let body = json!({"email": "owner@example.com", "password": PASSWORD}).to_string();
    // Browsers too old for Origin and Sec-Fetch-Site still send the page's Referer.
    let cross_site = [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("referer", "https://evil.example/login.html"),
    ];
    for (header, value) in cross_site {
        let r = anon
            .send_raw(
                anon.request(Method::POST, "/api/v2/users/login")
                    .header(header, value)
                    .header("content-type", "text/plain")
                    .body(body.clone()),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{header}: {}", r.body);
        assert_eq!(r.message(), "Cross-site request refused.");
    }
    // The same site, and clients that send no Origin (the CLI), sign in as before.
    let r = anon
        .send_raw(
            anon.request(Method::POST, "/api/v2/users/login")
                .header("origin", server.url.as_str())
                .header("content-type", "application/json")
                .body(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    anon.login("owner@example.com", PASSWORD).await;
});
