//! The crate's single error type, [`AuthError`], and its HTTP classification.

use std::path::PathBuf;

use crate::keys::MIN_HS256_SECRET_LEN;

/// Everything that can go wrong while loading keys, issuing, verifying or
/// authorizing a token.
///
/// Every variant belongs to exactly one [`AuthErrorKind`] (see
/// [`AuthError::kind`]), which maps to an HTTP status: token problems are
/// `401`, authorization problems `403`, a temporarily failing principal check
/// `503`, and key/configuration problems `500`.
///
/// The [`Display`](std::fmt::Display) text is meant for logs and may name a
/// key id or a file path; it never contains key material or token contents.
/// What may be shown to a client is [`AuthError::public_reason`].
///
/// # Examples
///
/// ```
/// use tenant_auth::{AuthError, AuthErrorKind};
///
/// let err = AuthError::Expired;
/// assert_eq!(err.kind(), AuthErrorKind::Unauthorized);
/// assert_eq!(err.status_code(), 401);
/// assert_eq!(err.public_reason(), "token expired");
///
/// let err = AuthError::Forbidden("missing permission trade".into());
/// assert!(err.is_forbidden());
/// assert_eq!(err.status_code(), 403);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No bearer token was presented (no `Authorization` header, another
    /// scheme, or an empty token).
    #[error("no bearer token was presented")]
    MissingToken,
    /// The token is not a well-formed compact JWS (three base64url parts,
    /// JSON header and payload), or is larger than [`MAX_TOKEN_LEN`](crate::MAX_TOKEN_LEN).
    #[error("token is malformed")]
    Malformed,
    /// The header's `alg` is not the algorithm of the key selected by `kid`
    /// (this is what `alg: none` and RS256/HS256 key confusion produce).
    #[error("token algorithm is not accepted for the selected key")]
    AlgorithmNotAllowed,
    /// The signature does not verify with the selected key.
    #[error("token signature is invalid")]
    InvalidSignature,
    /// `exp` is further in the past than the configured leeway.
    #[error("token has expired")]
    Expired,
    /// `nbf` is further in the future than the configured leeway.
    #[error("token is not valid yet")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("token issuer is not accepted")]
    WrongIssuer,
    /// `aud` does not contain the configured audience.
    #[error("token audience is not accepted")]
    WrongAudience,
    /// The token's `kid` is not in the key set (or it has no `kid` and the
    /// key set has no default key).
    #[error("token was signed with an unknown key")]
    UnknownKey,
    /// A required claim is absent (or `null`).
    #[error("token is missing the required claim `{0}`")]
    MissingClaim(&'static str),
    /// A claim is present but has the wrong type or an unparseable value
    /// (e.g. `sub` is not a UUID, `role` is not a known role).
    #[error("token claim `{0}` has an invalid value")]
    InvalidClaim(&'static str),
    /// The application's principal check rejected the (valid) token, e.g. the
    /// user no longer exists. The string is shown to the client.
    #[error("principal rejected: {0}")]
    Unauthorized(String),
    /// The caller is authenticated but not allowed to do this. The string is
    /// shown to the client.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The principal check could not be completed right now (e.g. the
    /// database is down). The string is shown to the client.
    #[error("authorization temporarily unavailable: {0}")]
    Unavailable(String),
    /// An HS256 secret shorter than [`MIN_HS256_SECRET_LEN`] bytes.
    #[error("HS256 secret must be at least {MIN_HS256_SECRET_LEN} bytes")]
    WeakSecret,
    /// A key file could not be read.
    #[error("cannot read key file {path}: {source}")]
    KeyFile {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Key material or a key file is invalid (bad PEM, bad JSON, duplicate
    /// `kid`, unknown `alg`, mismatched key pair, ...). The message names the
    /// offending `kid`, never the key material.
    #[error("invalid key configuration: {0}")]
    KeyParse(String),
    /// Signing was requested but the key set has no active key with private
    /// key material.
    #[error("no signing key: {0}")]
    NoSigningKey(String),
    /// The crypto backend failed to sign.
    #[error("failed to sign token: {0}")]
    Signing(String),
    /// The library is used incorrectly, e.g. no `Authenticator` registered in
    /// the actix-web app.
    #[error("authentication is misconfigured: {0}")]
    Misconfigured(&'static str),
}

/// The HTTP-level class of an [`AuthError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// `401 Unauthorized`: no token, or a token that cannot be trusted.
    Unauthorized,
    /// `403 Forbidden`: a trusted token that does not allow the action.
    Forbidden,
    /// `503 Service Unavailable`: the principal check could not run.
    #[strum(serialize = "Service Unavailable")]
    Unavailable,
    /// `500 Internal Server Error`: key or configuration problems.
    #[strum(serialize = "Internal Server Error")]
    Internal,
}

impl AuthErrorKind {
    /// The HTTP status code for this class (401, 403, 503 or 500).
    #[must_use]
    pub const fn status_code(self) -> u16 {
        match self {
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    /// The prefix used in response `detail` strings, e.g. `"Unauthorized"`
    /// (the HTTP reason phrase of [`status_code`](Self::status_code)).
    #[must_use]
    pub fn label(self) -> &'static str {
        self.into()
    }
}

impl AuthError {
    /// Which HTTP class this error belongs to.
    #[must_use]
    pub fn kind(&self) -> AuthErrorKind {
        match self {
            Self::MissingToken
            | Self::Malformed
            | Self::AlgorithmNotAllowed
            | Self::InvalidSignature
            | Self::Expired
            | Self::NotYetValid
            | Self::WrongIssuer
            | Self::WrongAudience
            | Self::UnknownKey
            | Self::MissingClaim(_)
            | Self::InvalidClaim(_)
            | Self::Unauthorized(_) => AuthErrorKind::Unauthorized,
            Self::Forbidden(_) => AuthErrorKind::Forbidden,
            Self::Unavailable(_) => AuthErrorKind::Unavailable,
            Self::WeakSecret
            | Self::KeyFile { .. }
            | Self::KeyParse(_)
            | Self::NoSigningKey(_)
            | Self::Signing(_)
            | Self::Misconfigured(_) => AuthErrorKind::Internal,
        }
    }

    /// The HTTP status code: 401, 403, 503 or 500.
    #[must_use]
    pub fn status_code(&self) -> u16 {
        self.kind().status_code()
    }

    /// `true` for the 401 kind (the client must (re-)authenticate).
    #[must_use]
    pub fn is_unauthorized(&self) -> bool {
        self.kind() == AuthErrorKind::Unauthorized
    }

    /// `true` for the 403 kind (authenticated, but not allowed).
    #[must_use]
    pub fn is_forbidden(&self) -> bool {
        self.kind() == AuthErrorKind::Forbidden
    }

    /// A short reason that is safe to send to a client: no secrets, no token
    /// contents, no file paths. Configuration errors all read
    /// `"internal error"`.
    #[must_use]
    pub fn public_reason(&self) -> String {
        match self {
            Self::MissingToken => "missing bearer token".into(),
            Self::Malformed => "malformed token".into(),
            Self::AlgorithmNotAllowed => "token algorithm not accepted".into(),
            Self::InvalidSignature => "invalid token signature".into(),
            Self::Expired => "token expired".into(),
            Self::NotYetValid => "token not yet valid".into(),
            Self::WrongIssuer => "invalid token issuer".into(),
            Self::WrongAudience => "invalid token audience".into(),
            Self::UnknownKey => "unknown signing key".into(),
            Self::MissingClaim(claim) => format!("missing claim {claim}"),
            Self::InvalidClaim(claim) => format!("invalid claim {claim}"),
            Self::Unauthorized(reason) | Self::Forbidden(reason) | Self::Unavailable(reason) => {
                reason.clone()
            }
            Self::WeakSecret
            | Self::KeyFile { .. }
            | Self::KeyParse(_)
            | Self::NoSigningKey(_)
            | Self::Signing(_)
            | Self::Misconfigured(_) => "internal error".into(),
        }
    }

    /// The client-facing `detail` string: `"<Kind label>: <public reason>"`,
    /// e.g. `"Unauthorized: token expired"` or `"Forbidden: missing permission trade"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tenant_auth::AuthError;
    /// assert_eq!(AuthError::MissingToken.detail(), "Unauthorized: missing bearer token");
    /// ```
    #[must_use]
    pub fn detail(&self) -> String {
        format!("{}: {}", self.kind().label(), self.public_reason())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses() {
        assert_eq!(AuthError::MissingToken.status_code(), 401);
        assert_eq!(AuthError::MissingClaim("sub").status_code(), 401);
        assert_eq!(AuthError::Unauthorized("x".into()).status_code(), 401);
        assert_eq!(AuthError::Forbidden("x".into()).status_code(), 403);
        assert_eq!(AuthError::Unavailable("x".into()).status_code(), 503);
        assert_eq!(AuthError::WeakSecret.status_code(), 500);
        assert_eq!(AuthError::KeyParse("kid `a`".into()).status_code(), 500);
    }

    #[test]
    fn labels_are_reason_phrases() {
        for (kind, label) in [
            (AuthErrorKind::Unauthorized, "Unauthorized"),
            (AuthErrorKind::Forbidden, "Forbidden"),
            (AuthErrorKind::Unavailable, "Service Unavailable"),
            (AuthErrorKind::Internal, "Internal Server Error"),
        ] {
            assert_eq!(kind.label(), label);
        }
    }

    #[test]
    fn public_reason_hides_internal_details() {
        let err = AuthError::KeyParse("kid `secret-kid`: bad PEM".into());
        assert_eq!(err.public_reason(), "internal error");
        assert_eq!(err.detail(), "Internal Server Error: internal error");
        assert_eq!(
            AuthError::MissingClaim("tenant_id").detail(),
            "Unauthorized: missing claim tenant_id"
        );
    }
}
