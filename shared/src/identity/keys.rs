//! Ed25519 signing keys and the JWKS that publishes their public halves.

use super::Claims;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// One Ed25519 key pair with its key id.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    pkcs8: Vec<u8>,
    public: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private half.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish()
    }
}

impl SigningKey {
    /// A new random key; its id is derived from its public half.
    pub fn generate() -> anyhow::Result<Self> {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| anyhow::anyhow!("Ed25519 key generation failed"))?;
        Self::from_pkcs8(document.as_ref())
    }

    /// A key from its PKCS#8 DER encoding.
    pub fn from_pkcs8(pkcs8: &[u8]) -> anyhow::Result<Self> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|error| anyhow::anyhow!("not an Ed25519 PKCS#8 key: {error}"))?;
        let public = pair.public_key().as_ref().to_vec();
        let kid = URL_SAFE_NO_PAD.encode(&sha2_256(&public)[..12]);
        Ok(Self {
            kid,
            pkcs8: pkcs8.to_vec(),
            public,
        })
    }

    /// The key id published in the JWKS and put in token headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The PKCS#8 DER encoding, for storage.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public half as a JWK.
    pub fn public_jwk(&self) -> Jwk {
        Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(self.kid.clone()),
                ..CommonParameters::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(&self.public),
            }),
        }
    }

    /// Signs any claims with this key (EdDSA, `kid` in the header).
    pub fn sign<T: serde::Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_ed_der(&self.pkcs8),
        )?)
    }
}

fn sha2_256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

/// Issues access tokens with the current key and publishes the current and previous
/// public keys, so tokens signed before a rotation stay valid until they expire.
#[derive(Debug, Clone)]
pub struct TokenSigner {
    current: SigningKey,
    previous: Vec<SigningKey>,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

impl TokenSigner {
    /// Access tokens live 15 minutes.
    pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;

    /// A signer issuing for `issuer` and `audience`.
    pub fn new(
        current: SigningKey,
        previous: Vec<SigningKey>,
        issuer: &str,
        audience: &str,
    ) -> Self {
        Self {
            current,
            previous,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_secs: Self::ACCESS_TOKEN_TTL_SECS,
        }
    }

    /// Seconds an access token lives.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Claims for a subject, issued now, with this signer's issuer and audience.
    pub fn claims(
        &self,
        subject: &str,
        tenant: Option<uuid::Uuid>,
        role: super::Role,
        scopes: &[&str],
    ) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: subject.to_owned(),
            tid: tenant,
            role,
            scope: scopes.join(" "),
            jti: uuid::Uuid::now_v7().to_string(),
            iat: now,
            exp: now + self.ttl_secs,
            sid: None,
        }
    }

    /// Claims as [`Self::claims`], for a token that belongs to `session`: ending the
    /// session ([`super::sessions::end`]) ends the token at once.
    pub fn session_claims(
        &self,
        session: uuid::Uuid,
        subject: &str,
        tenant: Option<uuid::Uuid>,
        role: super::Role,
        scopes: &[&str],
    ) -> Claims {
        Claims {
            sid: Some(session),
            ..self.claims(subject, tenant, role, scopes)
        }
    }

    /// Signs claims with the current key.
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        self.current.sign(claims)
    }

    /// The JWKS: the current key first, then the previous ones.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: std::iter::once(&self.current)
                .chain(&self.previous)
                .map(SigningKey::public_jwk)
                .collect(),
        }
    }
}
