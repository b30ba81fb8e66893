//! Staff passwords: argon2id hashes in PHC string form.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("the password must be {MIN_LENGTH} to {MAX_LENGTH} characters long")]
    Length,
    #[error("the password must not be only one repeated character")]
    Trivial,
    #[error("hashing failed: {0}")]
    Hashing(String),
}

/// Checks the password policy and returns the argon2id hash to store.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let length = password.chars().count();
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(PasswordError::Length);
    }
    let mut chars = password.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err(PasswordError::Trivial);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// True when `password` matches the stored hash; a malformed hash never matches.
pub fn verify(stored_hash: &str, password: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_password() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(&stored, "correct horse battery"));
        assert!(!verify(&stored, "correct horse battery "));
        assert!(!verify("not a hash", "correct horse battery"));
    }

    #[test]
    fn the_policy_refuses_weak_passwords() {
        assert_eq!(hash("short").unwrap_err(), PasswordError::Length);
        assert_eq!(
            hash("aaaaaaaaaaaaaaaa").unwrap_err(),
            PasswordError::Trivial
        );
    }
}
