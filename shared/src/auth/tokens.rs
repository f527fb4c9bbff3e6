//! Signed JWTs: access tokens for this API and IM tokens for an IM server. Ed25519
//! (`EdDSA`) only; the algorithm is pinned, so `none`, HMAC-with-the-public-key and other
//! confusions fail before anything else. The public keys are served as JWKS, so an IM
//! server verifies tokens with no shared secret. Expiry is checked against the service's
//! clock (not the library's), so tests can move time.

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const ISSUER: &str = "roster";
pub const ACCESS_AUDIENCE: &str = "roster-api";
pub const IM_AUDIENCE: &str = "roster-im";

struct KeyPair {
    kid: String,
    public: [u8; 32],
    /// Parsed once: `jsonwebtoken::encode` parses a PKCS#8 document and derives the public
    /// key again on every call, which doubled the cost of a signature in the profile.
    signing: Ed25519KeyPair,
    /// The token header (`alg`, `kid`, `typ`), base64url, ready to prefix.
    header: String,
    decoding: DecodingKey,
}

impl KeyPair {
    fn from_seed(seed: &[u8; 32]) -> Result<Self, String> {
        let signing = Ed25519KeyPair::from_seed_unchecked(seed).map_err(|e| e.to_string())?;
        let public: [u8; 32] = signing
            .public_key()
            .as_ref()
            .try_into()
            .map_err(|_| "an Ed25519 public key is 32 bytes".to_string())?;
        let kid = B64.encode(&Sha256::digest(public)[..12]);
        let header = B64.encode(json!({ "alg": "EdDSA", "kid": kid, "typ": "JWT" }).to_string());
        Ok(KeyPair {
            kid,
            public,
            signing,
            header,
            decoding: DecodingKey::from_ed_der(&public),
        })
    }
}

/// An IM token younger than this is handed out again to the same asker (see `im_token`).
pub const IM_TOKEN_REUSE_SECS: i64 = 60;
/// The most IM tokens kept for reuse; past it the stale ones go, then all.
const IM_TOKENS_KEPT: usize = 10_000;

/// Who an IM token is for: the user, the `act` and the members.
type ImAsker = (String, Option<String>, Vec<String>);

/// The current signing key and, after a rotation, the previous one (verify only).
pub struct TokenKeys {
    current: KeyPair,
    previous: Option<KeyPair>,
    /// Recently signed IM tokens by user, `act` and members, with their `iat`.
    recent_im: std::sync::Mutex<std::collections::HashMap<ImAsker, (i64, String)>>,
    /// The key set, serialized on first request and then served as bytes with its tag.
    jwks_answer: std::sync::OnceLock<crate::http::StaticJson>,
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed, wrongly signed, or not for this audience")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    /// The session (refresh-token family) this token belongs to.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

trait Expiring {
    fn exp(&self) -> i64;
}
impl Expiring for AccessClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}
impl Expiring for ImClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

impl TokenKeys {
    pub fn from_seeds(current: &[u8; 32], previous: Option<&[u8; 32]>) -> Result<Self, String> {
        super::jwt_crypto::install();
        Ok(TokenKeys {
            current: KeyPair::from_seed(current)?,
            previous: previous.map(KeyPair::from_seed).transpose()?,
            recent_im: Default::default(),
            jwks_answer: std::sync::OnceLock::new(),
        })
    }

    /// A compact JWS (RFC 7515) signed with the current key; what `jsonwebtoken::encode`
    /// produces, with the key parsed once instead of at every call.
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, String> {
        let claims = serde_json::to_vec(claims).map_err(|e| e.to_string())?;
        let key = &self.current;
        let mut token = String::with_capacity(key.header.len() + claims.len() * 4 / 3 + 92);
        token.push_str(&key.header);
        token.push('.');
        B64.encode_string(claims, &mut token);
        let signature = key.signing.sign(token.as_bytes());
        token.push('.');
        B64.encode_string(signature.as_ref(), &mut token);
        Ok(token)
    }

    /// An IM token for these claims, or the one signed for the same user, `act` and
    /// members less than `IM_TOKEN_REUSE_SECS` ago (its `exp` at most that much sooner).
    /// SealTalk's server likewise keeps a user's IM token rather than asking for a new
    /// one each time, and the signature was a sixth of `get_token`'s cost in the profile.
    /// The caller has checked the session already: a reused token is never handed to
    /// anyone a new one would not be.
    pub fn im_token(&self, claims: &ImClaims) -> Result<String, String> {
        let key: ImAsker = (claims.sub.clone(), claims.act.clone(), claims.members.clone());
        let now = claims.iat;
        let fresh = |iat: i64| (0..IM_TOKEN_REUSE_SECS).contains(&(now - iat));
        if let Ok(recent) = self.recent_im.lock() {
            if let Some((iat, token)) = recent.get(&key) {
                if fresh(*iat) {
                    return Ok(token.clone());
                }
            }
        }
        let token = self.sign(claims)?;
        if let Ok(mut recent) = self.recent_im.lock() {
            if recent.len() >= IM_TOKENS_KEPT {
                recent.retain(|_, (iat, _)| fresh(*iat));
                if recent.len() >= IM_TOKENS_KEPT {
                    recent.clear();
                }
            }
            recent.insert(key, (now, token.clone()));
        }
        Ok(token)
    }

    fn verify<C: DeserializeOwned + Expiring>(&self, token: &str, audience: &str, now: i64) -> Result<C, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Invalid);
        }
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| header.kid.as_deref() == Some(k.kid.as_str()))
            .ok_or(TokenError::Invalid)?;
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_audience(&[audience]);
        v.set_issuer(&[ISSUER]);
        v.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
        v.validate_exp = false;
        v.validate_nbf = false;
        let data = jsonwebtoken::decode::<C>(token, &key.decoding, &v).map_err(|_| TokenError::Invalid)?;
        if data.claims.exp() <= now {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
    }

    pub fn verify_access(&self, token: &str, now: i64) -> Result<AccessClaims, TokenError> {
        self.verify(token, ACCESS_AUDIENCE, now)
    }

    pub fn verify_im(&self, token: &str, now: i64) -> Result<ImClaims, TokenError> {
        self.verify(token, IM_AUDIENCE, now)
    }

    /// The key set as a static answer: the keys change only with a restart.
    pub fn jwks_answer(&self) -> &crate::http::StaticJson {
        self.jwks_answer
            .get_or_init(|| crate::http::StaticJson::raw(self.jwks().to_string()))
    }

    /// RFC 7517 key set with every key that may have signed a live token.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .map(|k| {
                json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "alg": "EdDSA",
                    "use": "sig",
                    "kid": k.kid,
                    "x": B64.encode(k.public),
                })
            })
            .collect();
        json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims {
            iss: ISSUER.into(),
            aud: ACCESS_AUDIENCE.into(),
            sub: "user1".into(),
            sid: "s1".into(),
            iat: 0,
            exp,
        }
    }

    use jsonwebtoken::{EncodingKey, Header};

    fn b64(v: &[u8]) -> String {
        B64.encode(v)
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let keys = TokenKeys::from_seeds(&[1; 32], None).unwrap();
        let t = keys.sign(&claims(100)).unwrap();
        assert_eq!(keys.verify_access(&t, 99).unwrap().sub, "user1");
        assert_eq!(keys.verify_access(&t, 100), Err(TokenError::Expired));
    }

    #[test]
    fn forged_tampered_none_and_confused_tokens_are_rejected() {
        let keys = TokenKeys::from_seeds(&[1; 32], None).unwrap();
        let other = TokenKeys::from_seeds(&[2; 32], None).unwrap();
        let good = keys.sign(&claims(100)).unwrap();
        // Signed by another key (with this key's kid swapped in).
        let forged = other.sign(&claims(100)).unwrap();
        let forged = format!(
            "{}.{}",
            good.split('.').next().unwrap(),
            forged.split('.').skip(1).collect::<Vec<_>>().join(".")
        );
        assert_eq!(keys.verify_access(&forged, 1), Err(TokenError::Invalid));
        // Payload changed after signing.
        let parts: Vec<&str> = good.split('.').collect();
        let mut c = claims(100);
        c.sub = "admin".into();
        let tampered = format!("{}.{}.{}", parts[0], b64(&serde_json::to_vec(&c).unwrap()), parts[2]);
        assert_eq!(keys.verify_access(&tampered, 1), Err(TokenError::Invalid));
        // alg: none.
        let none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
        assert_eq!(keys.verify_access(&none, 1), Err(TokenError::Invalid));
        // Any other algorithm fails on the header; HS256 keyed with the published key (the
        // classic confusion) is tried through the real route in tests/api/account.rs.
        let hs = format!("{}.{}.{}", b64(br#"{"alg":"HS256","typ":"JWT"}"#), parts[1], parts[2]);
        assert_eq!(keys.verify_access(&hs, 1), Err(TokenError::Invalid));
        // An IM token is not an access token.
        let im = ImClaims {
            iss: ISSUER.into(),
            aud: IM_AUDIENCE.into(),
            sub: "u".into(),
            iat: 0,
            exp: 100,
            act: None,
            members: vec![],
        };
        assert_eq!(
            keys.verify_access(&keys.sign(&im).unwrap(), 1),
            Err(TokenError::Invalid)
        );
        assert!(keys.verify_im(&keys.sign(&im).unwrap(), 1).is_ok());
    }

    #[test]
    fn a_signed_token_is_a_standard_jws_any_library_verifies() {
        let keys = TokenKeys::from_seeds(&[1; 32], None).unwrap();
        let token = keys.sign(&claims(100)).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(header.kid.as_deref(), Some(keys.current.kid.as_str()));
        // Verified by jsonwebtoken against the published key alone.
        let x = keys.jwks()["keys"][0]["x"].as_str().unwrap().to_string();
        let key = DecodingKey::from_ed_components(&x).unwrap();
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_audience(&[ACCESS_AUDIENCE]);
        v.validate_exp = false;
        let data = jsonwebtoken::decode::<AccessClaims>(&token, &key, &v).unwrap();
        assert_eq!(data.claims, claims(100));
        // Verified by another Ed25519 implementation (ed25519-dalek, not ring).
        let public: [u8; 32] = B64.decode(&x).unwrap().try_into().unwrap();
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let signature = ed25519_dalek::Signature::from_slice(&B64.decode(signature).unwrap()).unwrap();
        ed25519_dalek::VerifyingKey::from_bytes(&public)
            .unwrap()
            .verify_strict(signed.as_bytes(), &signature)
            .unwrap();
        // The same payload and header as jsonwebtoken's own encoder given the same key as a
        // PKCS#8 v1 document (RFC 8410: a fixed prefix, then the seed).
        let mut der = hex::decode("302e020100300506032b657004220420").unwrap();
        der.extend_from_slice(&[1; 32]);
        let mut h = Header::new(Algorithm::EdDSA);
        h.kid = header.kid.clone();
        let theirs = jsonwebtoken::encode(&h, &claims(100), &EncodingKey::from_ed_der(der.as_ref())).unwrap();
        let payload_and_signature = |t: &str| t.split('.').skip(1).map(String::from).collect::<Vec<_>>();
        assert_eq!(payload_and_signature(&token)[0], payload_and_signature(&theirs)[0]);
        let ours_header: Value =
            serde_json::from_slice(&B64.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
        let their_header: Value =
            serde_json::from_slice(&B64.decode(theirs.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(ours_header, their_header);
    }

    #[test]
    fn the_ring_provider_signs_and_verifies_eddsa_only() {
        let keys = TokenKeys::from_seeds(&[1; 32], None).unwrap();
        let token = keys.sign(&claims(100)).unwrap();
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let public = DecodingKey::from_ed_der(&keys.current.public);
        assert!(jsonwebtoken::crypto::verify(signature, signed.as_bytes(), &public, Algorithm::EdDSA).unwrap());
        // One flipped bit in the message fails.
        let mut tampered = signed.as_bytes().to_vec();
        tampered[0] ^= 1;
        assert!(!jsonwebtoken::crypto::verify(signature, &tampered, &public, Algorithm::EdDSA).unwrap());
        // Another algorithm is an error, not a panic and not a pass.
        let secret = EncodingKey::from_secret(b"secret");
        assert!(jsonwebtoken::crypto::sign(b"m", &secret, Algorithm::HS256).is_err());
        let hs_key = DecodingKey::from_secret(b"secret");
        assert!(jsonwebtoken::crypto::verify(signature, signed.as_bytes(), &hs_key, Algorithm::HS256).is_err());
        assert!(jsonwebtoken::crypto::verify(signature, signed.as_bytes(), &public, Algorithm::ES256).is_err());
    }

    fn im(sub: &str, iat: i64, members: &[&str]) -> ImClaims {
        ImClaims {
            iss: ISSUER.into(),
            aud: IM_AUDIENCE.into(),
            sub: sub.into(),
            iat,
            exp: iat + 900,
            act: None,
            members: members.iter().map(|m| m.to_string()).collect(),
        }
    }

    #[test]
    fn an_im_token_under_a_minute_old_is_handed_out_again_to_the_same_asker_only() {
        let keys = TokenKeys::from_seeds(&[1; 32], None).unwrap();
        let first = keys.im_token(&im("alice", 1000, &[])).unwrap();
        assert_eq!(keys.im_token(&im("alice", 1059, &[])).unwrap(), first);
        // Another user, other members or another act get their own.
        assert_ne!(keys.im_token(&im("bob", 1001, &[])).unwrap(), first);
        let with_members = keys.im_token(&im("alice", 1002, &["bob"])).unwrap();
        assert_ne!(with_members, first);
        assert_eq!(
            keys.verify_im(&with_members, 1003).unwrap().members,
            vec!["bob".to_string()]
        );
        let mut acting = im("alice", 1003, &[]);
        acting.act = Some("call".into());
        assert_ne!(keys.im_token(&acting).unwrap(), first);
        // A minute on, a new one with the new times.
        let later = keys.im_token(&im("alice", 1060, &[])).unwrap();
        assert_ne!(later, first);
        let claims = keys.verify_im(&later, 1060).unwrap();
        assert_eq!((claims.iat, claims.exp), (1060, 1960));
    }

    #[test]
    fn the_reuse_list_stays_bounded() {
        let keys = TokenKeys::from_seeds(&[1; 32], None).unwrap();
        for i in 0..IM_TOKENS_KEPT + 5 {
            keys.im_token(&im(&format!("u{i}"), 1000, &[])).unwrap();
        }
        assert!(keys.recent_im.lock().unwrap().len() <= IM_TOKENS_KEPT);
    }

    #[test]
    fn after_rotation_old_tokens_verify_and_both_keys_are_published() {
        let old = TokenKeys::from_seeds(&[1; 32], None).unwrap();
        let token = old.sign(&claims(100)).unwrap();
        let rotated = TokenKeys::from_seeds(&[3; 32], Some(&[1; 32])).unwrap();
        assert!(rotated.verify_access(&token, 1).is_ok());
        assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
        let dropped = TokenKeys::from_seeds(&[3; 32], None).unwrap();
        assert_eq!(dropped.verify_access(&token, 1), Err(TokenError::Invalid));
    }
}
