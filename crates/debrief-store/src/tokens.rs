//! API token secrets: random, shown once, stored only as a SHA-256 hash.
//!
//! A secret carries 256 random bits, so a fast hash is enough: there is nothing to brute-force.

use std::fmt;

use sha2::{Digest, Sha256};

/// Prefix of every secret, so that a leaked token is easy to recognise.
pub const TOKEN_PREFIX: &str = "dbf_";

/// A token secret. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(String);

impl TokenSecret {
    /// Draws a new secret from the operating system's random source.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(TokenSecret(format!("{TOKEN_PREFIX}{}", to_hex(&bytes))))
    }

    /// The secret text, to show the user once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("TokenSecret(***)")
    }
}

/// The stored form of a secret: lowercase hex SHA-256.
pub fn hash_secret(secret: &str) -> String {
    to_hex(&Sha256::digest(secret.as_bytes()))
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_prefixed_and_hidden_from_debug() {
        let first = TokenSecret::generate().expect("random source");
        let second = TokenSecret::generate().expect("random source");
        assert_ne!(first, second);
        assert!(first.expose().starts_with(TOKEN_PREFIX));
        assert_eq!(first.expose().len(), TOKEN_PREFIX.len() + 64);
        assert!(!format!("{first:?}").contains(first.expose()));
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
