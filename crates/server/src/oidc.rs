//! The OpenID Connect relying party: provider discovery at start-up, the authorization URL
//! (code flow with PKCE, nonce and state), the code exchange, the ID-token checks (signature,
//! issuer, audience, expiry, nonce) and the userinfo claims. What to make of the claims is the
//! domain's (`atrium_domain::oidc`). HTTP to the provider goes through reqwest with redirects
//! off (stack.md §4).

use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessToken, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest, HttpResponse,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use serde_json::{Map, Value};

use atrium_domain::oidc::{Identity, PendingLogin};
use atrium_domain::oidc_config::OidcConfig;

/// The configured provider: its discovered metadata and our client registration.
pub struct RelyingParty {
    metadata: CoreProviderMetadata,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    redirect: RedirectUrl,
    scopes: Vec<String>,
    http: reqwest::Client,
}

/// An HTTP failure talking to the provider.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Reqwest(#[from] reqwest::Error),
    #[error(transparent)]
    Http(#[from] openidconnect::http::Error),
}

/// Why a callback could not be turned into an identity: Coder's message and the detail.
#[derive(Debug)]
pub struct Failure {
    pub message: &'static str,
    pub detail: String,
    /// The provider or its answer is at fault (500), not the request (400).
    pub server_side: bool,
}

async fn send(http: reqwest::Client, req: HttpRequest) -> Result<HttpResponse, HttpError> {
    let (parts, body) = req.into_parts();
    let mut request = http.request(parts.method, parts.uri.to_string()).body(body);
    for (name, value) in &parts.headers {
        request = request.header(name, value);
    }
    let response = request.send().await?;
    let mut out = openidconnect::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        out = out.header(name, value);
    }
    Ok(out.body(response.bytes().await?.to_vec())?)
}

impl RelyingParty {
    /// Reads the provider's discovery document. `access_url` is where the provider sends the
    /// browser back to (`<access_url>/api/v2/users/oidc/callback`).
    pub async fn discover(cfg: &OidcConfig, access_url: &str) -> Result<Self, String> {
        let issuer = cfg.oidc_issuer_url.clone().unwrap_or_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .map_err(|e| format!("cannot build the OIDC HTTP client: {e}"))?;
        let issuer_url = IssuerUrl::new(issuer.clone())
            .map_err(|e| format!("--oidc-issuer-url `{issuer}`: {e}"))?;
        let client = http.clone();
        let metadata =
            CoreProviderMetadata::discover_async(issuer_url, &|r| send(client.clone(), r))
                .await
                .map_err(|e| {
                    format!("cannot read the OIDC discovery document of `{issuer}`: {e}")
                })?;
        let callback = format!("{}/api/v2/users/oidc/callback", access_url.trim_end_matches('/'));
        let redirect = RedirectUrl::new(callback.clone())
            .map_err(|e| format!("callback URL `{callback}`: {e}"))?;
        if cfg.oidc_client_id.is_empty() {
            return Err("--oidc-issuer-url needs --oidc-client-id".to_owned());
        }
        Ok(RelyingParty {
            metadata,
            client_id: ClientId::new(cfg.oidc_client_id.clone()),
            client_secret: cfg.oidc_client_secret.as_ref().map(|s| ClientSecret::new(s.0.clone())),
            redirect,
            // `openid` is always asked for by the flow itself.
            scopes: cfg
                .oidc_scopes
                .iter()
                .filter(|s| *s != "openid" && !s.is_empty())
                .cloned()
                .collect(),
            http,
        })
    }

    fn client(
        &self,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            self.metadata.clone(),
            self.client_id.clone(),
            self.client_secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// A new sign-in: the provider URL to send the browser to, the state (for the cookie and
    /// the database) and what the callback needs back.
    pub fn start(&self, redirect: String) -> (String, String, PendingLogin) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending = PendingLogin {
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
            redirect,
        };
        (url.to_string(), state.secret().clone(), pending)
    }

    /// Exchanges the code and checks the ID token; returns the identity with the claims of the
    /// ID token merged with userinfo's (userinfo wins, as in Coder).
    pub async fn finish(&self, code: &str, pending: &PendingLogin) -> Result<Identity, Failure> {
        let http = |r| send(self.http.clone(), r);
        let client = self.client();
        let exchange = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| failure("Failed exchanging Oauth code.", e, true))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&http)
            .await
            .map_err(|e| failure("Failed exchanging Oauth code.", e, true))?;
        let Some(id_token) = exchange.id_token() else {
            return Err(Failure {
                message: "id_token not found in response payload. Ensure your OIDC callback is configured correctly!",
                detail: String::new(),
                server_side: false,
            });
        };
        let verifier = client.id_token_verifier();
        let checked = id_token
            .claims(&verifier, &Nonce::new(pending.nonce.clone()))
            .map_err(|e| failure("Failed to verify OIDC token.", e, false))?;
        let issuer = checked.issuer().to_string();
        let subject = checked.subject().to_string();
        // The token is verified: its payload is read as a whole for the custom claims
        // (groups, roles...) the typed claims do not keep.
        let mut claims = jwt_payload(&id_token.to_string())
            .map_err(|e| failure("Failed to extract OIDC claims.", e, true))?;
        if let Some(endpoint) = self.metadata.userinfo_endpoint() {
            let info = self
                .userinfo(endpoint.url().as_str(), exchange.access_token())
                .await
                .map_err(|e| failure("Failed to obtain user information claims.", e, true))?;
            claims.extend(info);
        }
        Ok(Identity { issuer, subject, claims })
    }

    async fn userinfo(&self, url: &str, token: &AccessToken) -> Result<Map<String, Value>, String> {
        let response = self
            .http
            .get(url)
            .bearer_auth(token.secret())
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("userinfo answered {}", response.status()));
        }
        response.json::<Map<String, Value>>().await.map_err(|e| e.to_string())
    }
}

fn failure(message: &'static str, e: impl std::fmt::Display, server_side: bool) -> Failure {
    Failure { message, detail: e.to_string(), server_side }
}

/// The claims object of a (verified) JWT.
fn jwt_payload(jwt: &str) -> Result<Map<String, Value>, String> {
    let payload = jwt.split('.').nth(1).ok_or("the ID token is not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}
