//! jsonwebtoken's cryptography on ring, the one stack the binaries link (the AWS SDK's TLS
//! runs on ring too, see `adapters::aws_http`). Roster's tokens are EdDSA only, so that
//! is all this provider offers: any other algorithm is refused.
//!
//! jsonwebtoken ships providers for aws-lc and RustCrypto only; linking aws-lc for two
//! Ed25519 calls cost each Lambda binary most of a megabyte (ML-KEM and ML-DSA included),
//! so this adapter is written here, on the crate's own extension point.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{Error as SignatureError, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use ring::signature::{Ed25519KeyPair, UnparsedPublicKey, ED25519};

static RING: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    // Roster writes its JWKS itself (see `TokenKeys::jwks`).
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes ring jsonwebtoken's provider for this process. Idempotent; `TokenKeys` calls it
/// before anything verifies a token.
pub fn install() {
    // Err only when a provider is installed already, which is this one.
    let _ = RING.install_default();
}

struct EdSigner(Ed25519KeyPair);

impl Signer<Vec<u8>> for EdSigner {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, SignatureError> {
        Ok(self.0.sign(message).as_ref().to_vec())
    }
}

impl JwtSigner for EdSigner {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

struct EdVerifier(Vec<u8>);

impl Verifier<Vec<u8>> for EdVerifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> std::result::Result<(), SignatureError> {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(message, signature)
            .map_err(|_| SignatureError::new())
    }
}

impl JwtVerifier for EdVerifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    if *algorithm != Algorithm::EdDSA || key.family() != AlgorithmFamily::Ed {
        return Err(ErrorKind::UnsupportedAlgorithm.into());
    }
    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(key.as_bytes()).map_err(|_| ErrorKind::InvalidEddsaKey)?;
    Ok(Box::new(EdSigner(pair)))
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    if *algorithm != Algorithm::EdDSA || key.family() != AlgorithmFamily::Ed {
        return Err(ErrorKind::UnsupportedAlgorithm.into());
    }
    Ok(Box::new(EdVerifier(key.try_get_as_bytes()?.to_vec())))
}
