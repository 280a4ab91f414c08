//! Session and API tokens in Coder's format, `<10-char id>-<22-char secret>`: only the SHA-256
//! of the secret is stored, and secrets are compared in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const ALPHABET: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A freshly generated token: the id, the secret, and the hash to store.
pub struct NewToken {
    pub id: String,
    pub secret: String,
    pub hashed_secret: String,
}

impl NewToken {
    /// What the client keeps.
    pub fn token(&self) -> String {
        format!("{}-{}", self.id, self.secret)
    }
}

/// Random alphanumerics by rejection sampling (bytes ≥ 248 are dropped) to avoid modulo bias.
fn random_string(len: usize) -> Result<String, getrandom::Error> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf)?;
        for b in buf {
            if b < 248 && out.len() < len {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
    }
    Ok(out)
}

/// Generates a new token.
pub fn generate() -> Result<NewToken, getrandom::Error> {
    let id = random_string(10)?;
    let secret = random_string(22)?;
    let hashed_secret = hash_secret(&secret);
    Ok(NewToken { id, secret, hashed_secret })
}

/// Hex SHA-256 of a secret, as stored.
pub fn hash_secret(secret: &str) -> String {
    // Every authenticated request hashes its secret: no allocation per byte.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(secret.as_bytes());
    let mut hex = String::with_capacity(digest.len() * 2);
    for b in digest {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    hex
}

/// Whether `secret` matches the stored hash, in constant time.
pub fn secret_matches(secret: &str, hashed: &str) -> bool {
    hash_secret(secret).as_bytes().ct_eq(hashed.as_bytes()).into()
}

/// Splits a token; the error text is Coder's.
pub fn split(token: &str) -> Result<(&str, &str), String> {
    let parts = token.split('-').count();
    let Some((id, secret)) = token.split_once('-').filter(|_| parts == 2) else {
        return Err(format!("incorrect amount of API key parts, expected 2 got {parts}"));
    };
    if id.len() != 10 {
        return Err(format!("invalid API key ID length, expected 10 got {}", id.len()));
    }
    if secret.len() != 22 {
        return Err(format!("invalid API key secret length, expected 22 got {}", secret.len()));
    }
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let t = generate().unwrap();
        let token = t.token();
        let (id, secret) = split(&token).unwrap();
        assert_eq!(id.len(), 10);
        assert!(secret_matches(secret, &t.hashed_secret));
        assert!(!secret_matches("x", &t.hashed_secret));
        assert!(split("abc").is_err());
        assert!(split("a-b-c").is_err());
        assert!(split("0123456789-short").is_err());
        assert_eq!(
            split("a-b-c").unwrap_err(),
            "incorrect amount of API key parts, expected 2 got 3"
        );
        // The SHA-256 of "abc", as stored: lower-case hex.
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
