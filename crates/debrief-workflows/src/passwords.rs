//! People's passwords: stored only as argon2id hashes (PHC form), checked on sign-in.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use debrief_core::RecordError;

use crate::{WorkflowError, WorkflowResult};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// An argon2id hash of a password, in PHC form; a password shorter than
/// [`MIN_PASSWORD_CHARS`] is refused, naming the field `password`.
pub fn hash_password(password: &str) -> WorkflowResult<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(WorkflowError::Invalid(RecordError::invalid(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        )));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|error| WorkflowError::Internal(format!("no random source: {error}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| WorkflowError::Internal(format!("password salt: {error}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| WorkflowError::Internal(format!("password hash: {error}")))
}

/// Whether `password` is the one `stored` (a PHC hash) was made from; an unreadable stored
/// hash is an internal error.
pub fn password_matches(password: &str, stored: &str) -> WorkflowResult<bool> {
    let hash = PasswordHash::new(stored)
        .map_err(|error| WorkflowError::Internal(format!("stored password hash: {error}")))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_matches_its_password_only() {
        let hash = hash_password("correct horse battery").expect("hashed");
        assert!(password_matches("correct horse battery", &hash).expect("checked"));
        assert!(!password_matches("correct horse batterY", &hash).expect("checked"));
        assert!(matches!(
            hash_password("short"),
            Err(WorkflowError::Invalid(error)) if error.field.as_deref() == Some("password")
        ));
        assert!(password_matches("x", "not a hash").is_err());
    }
}
