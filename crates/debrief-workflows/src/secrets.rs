//! Credentials at rest: sealed with ChaCha20-Poly1305 under the server's `secret_key` (32 bytes,
//! hex, from the settings — never stored in the database), a fresh random nonce per value.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// Why a secret cannot be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret_key must be 64 hexadecimal characters (32 bytes)")]
    BadKey,
    #[error("no random source: {0}")]
    Random(String),
    #[error("a stored credential cannot be opened with this secret_key")]
    Unreadable,
}

/// Seals and opens credentials.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl SecretBox {
    /// A box for the hex key of the settings.
    pub fn from_hex(key: &str) -> Result<SecretBox, SecretError> {
        let bytes = hex::decode(key.trim()).map_err(|_| SecretError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SecretError::BadKey);
        }
        Ok(SecretBox {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
        })
    }

    /// `hex(nonce ‖ ciphertext)` of `plain`.
    pub fn seal(&self, plain: &str) -> Result<String, SecretError> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|error| SecretError::Random(error.to_string()))?;
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .map_err(|_| SecretError::Unreadable)?;
        Ok(hex::encode([nonce.as_slice(), &sealed].concat()))
    }

    /// The plain text of [`SecretBox::seal`]'s output.
    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let bytes = hex::decode(sealed).map_err(|_| SecretError::Unreadable)?;
        if bytes.len() < 12 {
            return Err(SecretError::Unreadable);
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SecretError::Unreadable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn sealed_values_open_only_with_their_key_and_never_show_the_plain_text() {
        let secrets = SecretBox::from_hex(KEY).expect("key");
        let sealed = secrets.seal("p@ssw0rd").expect("seal");
        assert!(!sealed.contains("p@ssw0rd"));
        assert_ne!(
            sealed,
            secrets.seal("p@ssw0rd").expect("seal"),
            "a fresh nonce each time"
        );
        assert_eq!(secrets.open(&sealed).expect("open"), "p@ssw0rd");
        let other = SecretBox::from_hex(&KEY.replace("00", "ff")).expect("key");
        assert!(other.open(&sealed).is_err());
        assert!(SecretBox::from_hex("abc").is_err());
    }
}
