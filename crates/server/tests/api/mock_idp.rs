//! An in-process OpenID provider for the error cases (stack.md §4): discovery, JWKS, an
//! authorize endpoint that signs in whoever the test says, and a token endpoint that checks
//! PKCE and mints RS256 ID tokens with openidconnect's own provider-side types. A fault can
//! be injected into the next token: a wrong nonce, a wrong audience, an expired token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId,
    Nonce, PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

const KEY_PEM: &str = include_str!("fixtures_data/idp-rsa-pkcs1.pem");
pub const CLIENT_ID: &str = "atrium-test";
pub const CLIENT_SECRET: &str = "atrium-test-secret";

/// Claims beyond the standard ones (email, groups, roles...), kept as given.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Extra {
    #[serde(flatten)]
    claims: Map<String, Value>,
}
impl AdditionalClaims for Extra {}

/// What the next token gets wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    WrongNonce,
    WrongAudience,
    Expired,
}

struct Pending {
    subject: String,
    claims: Map<String, Value>,
    nonce: String,
    challenge: String,
}

struct Inner {
    issuer: String,
    key: CoreRsaPrivateSigningKey,
    /// Who signs in at the next authorize request: subject and claims.
    next: Mutex<(String, Map<String, Value>)>,
    fault: Mutex<Fault>,
    codes: Mutex<HashMap<String, Pending>>,
}

#[derive(Clone)]
pub struct MockIdp {
    inner: Arc<Inner>,
    pub issuer: String,
}

impl MockIdp {
    pub async fn start() -> MockIdp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let key = CoreRsaPrivateSigningKey::from_pem(KEY_PEM, Some(JsonWebKeyId::new("k1".into())))
            .unwrap();
        let inner = Arc::new(Inner {
            issuer: issuer.clone(),
            key,
            next: Mutex::new((String::new(), Map::new())),
            fault: Mutex::new(Fault::None),
            codes: Mutex::new(HashMap::new()),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        MockIdp { inner, issuer }
    }

    /// The person who signs in next, and their claims.
    pub fn sign_in_as(&self, subject: &str, claims: Value) {
        let Value::Object(map) = claims else { panic!("claims must be an object") };
        *self.inner.next.lock().unwrap() = (subject.to_owned(), map);
    }

    pub fn fault(&self, fault: Fault) {
        *self.inner.fault.lock().unwrap() = fault;
    }
}

async fn discovery(State(s): State<Arc<Inner>>) -> Json<Value> {
    let i = &s.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(State(s): State<Arc<Inner>>) -> Json<Value> {
    let key: CoreJsonWebKey = s.key.as_verification_key();
    Json(json!({"keys": [key]}))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    redirect_uri: String,
    state: String,
    nonce: String,
    code_challenge: String,
    client_id: String,
}

/// Signs in the configured person at once and sends the browser back with a code.
async fn authorize(State(s): State<Arc<Inner>>, Query(q): Query<AuthorizeQuery>) -> Response {
    assert_eq!(q.client_id, CLIENT_ID);
    let (subject, claims) = s.next.lock().unwrap().clone();
    let code = uuid::Uuid::new_v4().simple().to_string();
    s.codes.lock().unwrap().insert(
        code.clone(),
        Pending { subject, claims, nonce: q.nonce, challenge: q.code_challenge },
    );
    Redirect::to(&format!("{}?code={code}&state={}", q.redirect_uri, q.state)).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    code: String,
    code_verifier: String,
}

async fn token(State(s): State<Arc<Inner>>, Form(f): Form<TokenForm>) -> Response {
    let Some(p) = s.codes.lock().unwrap().remove(&f.code) else {
        return (axum::http::StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"})))
            .into_response();
    };
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(f.code_verifier.as_bytes()));
    if computed != p.challenge {
        return (axum::http::StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"})))
            .into_response();
    }
    let fault = *s.fault.lock().unwrap();
    let now = chrono::Utc::now();
    let (issued, expires) = if fault == Fault::Expired {
        (now - chrono::Duration::hours(2), now - chrono::Duration::hours(1))
    } else {
        (now, now + chrono::Duration::hours(1))
    };
    let audience = if fault == Fault::WrongAudience { "someone-else" } else { CLIENT_ID };
    let nonce = if fault == Fault::WrongNonce { "not-the-nonce".to_owned() } else { p.nonce };
    let claims = IdTokenClaims::<Extra, CoreGenderClaim>::new(
        IssuerUrl::new(s.issuer.clone()).unwrap(),
        vec![Audience::new(audience.to_owned())],
        expires,
        issued,
        StandardClaims::new(SubjectIdentifier::new(p.subject)),
        Extra { claims: p.claims },
    )
    .set_nonce(Some(Nonce::new(nonce)));
    let access = AccessToken::new("access-token".into());
    let id_token = IdToken::<
        Extra,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >::new(
        claims,
        &s.key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&access),
        None,
    )
    .unwrap();
    Json(json!({
        "access_token": access.secret(),
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": id_token.to_string(),
    }))
    .into_response()
}
