//! Bearer tokens as PostgREST handles them: an HS256 JWT whose claims name the database role
//! the request runs as; the claims themselves reach the database as `request.jwt.claims`.

use axum::http::{header, HeaderMap};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The cookie the sign-in form sets (HttpOnly).
pub const COOKIE: &str = "grse_token";

/// A verified caller: the role it runs as and its claims as JSON text.
#[derive(Debug, Clone)]
pub struct Caller {
    pub role: String,
    pub claims: String,
    /// `exp` as seconds since the epoch, if the token has one.
    pub expires_at: Option<u64>,
}

/// Why a request is not authenticated (always HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError(pub String);

/// Verifies tokens with one HS256 secret.
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl Verifier {
    pub fn new(secret: &[u8]) -> Verifier {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        // As PostgREST: `exp` and `nbf` are checked when present, not required; no audience configured.
        validation.required_spec_claims.clear();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.leeway = 0;
        Verifier { key: DecodingKey::from_secret(secret), validation }
    }

    /// Checks signature, algorithm, `exp`/`nbf` and the role claim.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &self.validation).map_err(|e| {
            AuthError(
                match e.kind() {
                    ErrorKind::ExpiredSignature => "token has expired",
                    ErrorKind::ImmatureSignature => "token is not valid yet",
                    ErrorKind::InvalidSignature => "token signature does not match",
                    ErrorKind::InvalidAlgorithm => "token algorithm must be HS256",
                    _ => "token is malformed",
                }
                .to_string(),
            )
        })?;
        let claims = data.claims;
        let role = match claims.get("role") {
            Some(Value::String(r)) if !r.is_empty() => r.clone(),
            _ => return Err(AuthError("token has no role claim".into())),
        };
        let expires_at = claims.get("exp").and_then(Value::as_u64);
        let claims = Value::Object(claims).to_string();
        Ok(Caller { role, claims, expires_at })
    }
}

/// Signs claims with the secret (for `grse-http token`).
pub fn mint(secret: &[u8], claims: &Map<String, Value>) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret))
        .expect("HS256 signing of a JSON object cannot fail")
}

/// The claims of a token for `role` (and optionally an agency) valid for `ttl` from now.
pub fn token_claims(role: &str, agency_id: Option<&str>, sub: Option<&str>, ttl: Duration) -> Map<String, Value> {
    let now = now_secs();
    let mut claims = Map::new();
    claims.insert("role".into(), Value::from(role));
    if let Some(a) = agency_id {
        claims.insert("agency_id".into(), Value::from(a));
    }
    if let Some(s) = sub {
        claims.insert("sub".into(), Value::from(s));
    }
    claims.insert("iat".into(), Value::from(now));
    claims.insert("exp".into(), Value::from(now.saturating_add(ttl.as_secs())));
    claims
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The token of `Authorization: Bearer <token>`: None without the header,
/// an error for another scheme or an empty token.
pub fn bearer(headers: &HeaderMap) -> Option<Result<&str, AuthError>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let text = match value.to_str() {
        Ok(t) => t.trim(),
        Err(_) => return Some(Err(AuthError("Authorization header is not valid text".into()))),
    };
    let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Some(Err(AuthError("Authorization header must use the Bearer scheme".into())));
    }
    let token = token.trim();
    if token.is_empty() {
        return Some(Err(AuthError("Authorization header has an empty token".into())));
    }
    Some(Ok(token))
}

/// The value of the `grse_token` cookie, if the request has one.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn minted_token_verifies_with_its_claims() {
        let token = mint(SECRET, &token_claims("grse_tenant", Some("a-1"), None, Duration::from_secs(60)));
        let caller = Verifier::new(SECRET).verify(&token).unwrap();
        assert_eq!(caller.role, "grse_tenant");
        let claims: Value = serde_json::from_str(&caller.claims).unwrap();
        assert_eq!(claims["agency_id"], "a-1");
        assert!(caller.expires_at.unwrap() > now_secs());
    }

    #[test]
    fn refusals() {
        let v = Verifier::new(SECRET);
        let other =
            mint(b"another secret of thirty-two bytes!", &token_claims("r", None, None, Duration::from_secs(60)));
        assert_eq!(v.verify(&other).unwrap_err().0, "token signature does not match");

        let mut expired = token_claims("r", None, None, Duration::from_secs(60));
        expired.insert("exp".into(), Value::from(now_secs() - 1));
        assert_eq!(v.verify(&mint(SECRET, &expired)).unwrap_err().0, "token has expired");

        let mut no_role = token_claims("r", None, None, Duration::from_secs(60));
        no_role.remove("role");
        assert_eq!(v.verify(&mint(SECRET, &no_role)).unwrap_err().0, "token has no role claim");
        no_role.insert("role".into(), Value::from(7));
        assert_eq!(v.verify(&mint(SECRET, &no_role)).unwrap_err().0, "token has no role claim");

        let mut later = token_claims("r", None, None, Duration::from_secs(60));
        later.insert("nbf".into(), Value::from(now_secs() + 600));
        assert_eq!(v.verify(&mint(SECRET, &later)).unwrap_err().0, "token is not valid yet");

        assert_eq!(v.verify("not.a.token").unwrap_err().0, "token is malformed");
        // alg "none" with the same claims: refused
        let ok = mint(SECRET, &token_claims("r", None, None, Duration::from_secs(60)));
        let payload = ok.split('.').nth(1).unwrap();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(v.verify(&none).is_err());
    }

    #[test]
    fn token_without_exp_is_accepted() {
        let mut claims = Map::new();
        claims.insert("role".into(), Value::from("grse_reader"));
        let caller = Verifier::new(SECRET).verify(&mint(SECRET, &claims)).unwrap();
        assert_eq!(caller.expires_at, None);
    }

    #[test]
    fn bearer_header() {
        assert!(bearer(&HeaderMap::new()).is_none());
        assert_eq!(bearer(&headers(&[(header::AUTHORIZATION, "Bearer abc")])).unwrap().unwrap(), "abc");
        assert_eq!(bearer(&headers(&[(header::AUTHORIZATION, "bearer  abc ")])).unwrap().unwrap(), "abc");
        assert!(bearer(&headers(&[(header::AUTHORIZATION, "Basic abc")])).unwrap().is_err());
        assert!(bearer(&headers(&[(header::AUTHORIZATION, "Bearer")])).unwrap().is_err());
    }

    #[test]
    fn cookie() {
        assert_eq!(cookie_token(&headers(&[(header::COOKIE, "a=1; grse_token=xyz; b=2")])), Some("xyz"));
        assert_eq!(cookie_token(&headers(&[(header::COOKIE, "a=1"), (header::COOKIE, "grse_token=q")])), Some("q"));
        assert_eq!(cookie_token(&headers(&[(header::COOKIE, "grse_token=")])), None);
        assert_eq!(cookie_token(&headers(&[(header::COOKIE, "xgrse_token=1")])), None);
        assert_eq!(cookie_token(&HeaderMap::new()), None);
    }
}
