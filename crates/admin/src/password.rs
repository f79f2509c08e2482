//! Password hashing with argon2id (the `argon2` crate's defaults: m=19 MiB, t=2, p=1, the
//! OWASP minimum), in PHC string format, and the password policy.

use alphapulse_domain::ValidationError;
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest accepted password, in characters (argon2 work is bounded by it).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// A hash verified against when the e-mail is unknown, so a login for an unknown user costs
/// the same argon2 work as one with a wrong password (no timing oracle for valid e-mails).
/// Its parameters are the defaults [`hash_password`] uses (a test checks that); the password
/// behind it is not known to anyone and matches nothing that is tried.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$gMRBy/et3YTxd+rh1wx2vg$ikN0V1KcMn4lH4/6d8/NQPLj7U78ds10A5as95O2hVE";

/// Checks the password policy: [`MIN_PASSWORD_LEN`] to [`MAX_PASSWORD_LEN`] characters.
///
/// # Errors
/// A password outside the bounds (field `password`).
pub fn check_policy(password: &str) -> Result<(), ValidationError> {
    if (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&password.chars().count()) {
        Ok(())
    } else {
        Err(ValidationError::new(
            "password",
            format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters long"),
        ))
    }
}

/// Hashes a password with a fresh random salt.
///
/// # Errors
/// Only on internal argon2 failures (e.g. an absurdly long input).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the PHC `hash` (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
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
    fn hash_verifies_only_the_right_password() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(
            hash,
            hash_password("correct horse").unwrap(),
            "salt is random"
        );
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        // Equal work for unknown e-mails: same algorithm, version and parameters as a fresh
        // hash, so `verify_password` runs the same argon2 computation.
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let real_text = hash_password("whatever it is").unwrap();
        let real = PasswordHash::new(&real_text).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(
            dummy.hash.map(|h| h.len()),
            real.hash.map(|h| h.len()),
            "same output length"
        );
        assert!(!verify_password("", DUMMY_HASH));
        assert!(!verify_password("not-a-real-password", DUMMY_HASH));
    }

    #[test]
    fn the_policy_counts_characters() {
        assert!(check_policy("1234567").is_err());
        assert!(check_policy("12345678").is_ok());
        // Eight characters of two bytes each: long enough.
        assert!(check_policy("éééééééé").is_ok());
        assert_eq!(
            check_policy(&"x".repeat(MAX_PASSWORD_LEN + 1))
                .unwrap_err()
                .field,
            "password"
        );
    }
}
