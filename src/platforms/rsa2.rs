//! RSA2 as Alipay uses it: RSA PKCS#1 v1.5 over SHA-256, signatures in standard base64. Keys are
//! read as PEM or as the bare base64 body that Alipay's key tool prints; private keys as PKCS#8
//! or PKCS#1, public keys as SubjectPublicKeyInfo or PKCS#1. Signing and verification are `ring`'s
//! (constant-time, blinded private-key operations).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, RsaKeyPair, UnparsedPublicKey};

/// The object identifier of rsaEncryption (1.2.840.113549.1.1.1), DER-encoded.
const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// A private key that signs.
pub struct Rsa2Signer {
    key: RsaKeyPair,
    rng: SystemRandom,
}

impl Rsa2Signer {
    pub fn from_text(text: &str) -> Result<Self, String> {
        let der = decode_key_text(text)?;
        let key = RsaKeyPair::from_pkcs8(&der)
            .or_else(|_| RsaKeyPair::from_der(&der))
            .map_err(|e| format!("not a PKCS#8 or PKCS#1 RSA private key ({e})"))?;
        Ok(Self {
            key,
            rng: SystemRandom::new(),
        })
    }

    /// The signature of `content`, in standard base64.
    pub fn sign(&self, content: &[u8]) -> String {
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &self.rng,
                content,
                &mut signature,
            )
            .expect("signing with a valid RSA key cannot fail");
        BASE64.encode(signature)
    }

    /// The public half as a PKCS#1 RSAPublicKey (DER).
    pub fn public_key_der(&self) -> Vec<u8> {
        self.key.public().as_ref().to_vec()
    }
}

/// A public key that verifies.
pub struct Rsa2Verifier {
    /// PKCS#1 RSAPublicKey, DER.
    key: Vec<u8>,
}

impl Rsa2Verifier {
    pub fn from_text(text: &str) -> Result<Self, String> {
        let der = decode_key_text(text)?;
        let key = rsa_public_key_of_spki(&der).unwrap_or(der);
        if !looks_like_rsa_public_key(&key) {
            return Err("not an RSA public key".into());
        }
        Ok(Self { key })
    }

    pub fn from_der(rsa_public_key: Vec<u8>) -> Self {
        Self {
            key: rsa_public_key,
        }
    }

    /// Whether `sign` (standard base64) is a valid signature of `content`.
    pub fn verify(&self, content: &[u8], sign: &str) -> bool {
        let Ok(signature) = BASE64.decode(sign.trim()) else {
            return false;
        };
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.key)
            .verify(content, &signature)
            .is_ok()
    }
}

/// The DER inside a PEM block, or the bare base64 itself.
fn decode_key_text(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let body: String = if text.contains("-----BEGIN") {
        text.lines()
            .filter(|line| !line.starts_with("-----"))
            .collect::<String>()
    } else {
        text.to_owned()
    };
    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    BASE64
        .decode(body)
        .map_err(|_| "neither PEM nor base64".to_string())
}

/// The RSAPublicKey inside a SubjectPublicKeyInfo, when `der` is one of an RSA key.
fn rsa_public_key_of_spki(der: &[u8]) -> Option<Vec<u8>> {
    let spki = spki::SubjectPublicKeyInfoRef::try_from(der).ok()?;
    let oid: &[u8] = spki.algorithm.oid.as_bytes();
    if oid != RSA_ENCRYPTION_OID {
        return None;
    }
    spki.subject_public_key.as_bytes().map(<[u8]>::to_vec)
}

/// A DER SEQUENCE of exactly two INTEGERs (modulus, exponent), as an RSAPublicKey is.
fn looks_like_rsa_public_key(der: &[u8]) -> bool {
    /// Reads one tag-length-value of `tag`; returns its value and what follows.
    fn tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&first, rest) = input.split_first()?;
        if first != tag {
            return None;
        }
        let (&len, rest) = rest.split_first()?;
        let (len, rest) = if len < 0x80 {
            (usize::from(len), rest)
        } else {
            let count = usize::from(len & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let len = rest[..count]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, &rest[count..])
        };
        (rest.len() >= len).then(|| rest.split_at(len))
    }
    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    let Some((body, after)) = tlv(der, SEQUENCE) else {
        return false;
    };
    let Some((modulus, body)) = tlv(body, INTEGER) else {
        return false;
    };
    let Some((_, body)) = tlv(body, INTEGER) else {
        return false;
    };
    after.is_empty() && body.is_empty() && modulus.len() >= 128
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/alipay/");

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}{name}")).unwrap()
    }

    #[test]
    fn signatures_match_openssl_byte_for_byte() {
        // vector.sig is `openssl dgst -sha256 -sign app.pkcs8.pem vector.txt | base64`.
        let content = fixture("vector.txt");
        let expected = fixture("vector.sig");
        for key in ["app.pkcs8.pem", "app.pkcs1.pem"] {
            let signer = Rsa2Signer::from_text(&fixture(key)).unwrap();
            assert_eq!(signer.sign(content.as_bytes()), expected.trim(), "{key}");
        }
    }

    #[test]
    fn signatures_verify_with_the_public_key_in_every_form() {
        let content = fixture("vector.txt");
        let sign = fixture("vector.sig");
        let pem = fixture("app.public.pem");
        let bare: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let pkcs1 = Rsa2Verifier::from_der(
            Rsa2Signer::from_text(&fixture("app.pkcs8.pem"))
                .unwrap()
                .public_key_der(),
        );
        for verifier in [
            Rsa2Verifier::from_text(&pem).unwrap(),
            Rsa2Verifier::from_text(&bare).unwrap(),
            pkcs1,
        ] {
            assert!(verifier.verify(content.as_bytes(), &sign));
            assert!(!verifier.verify(b"something else", &sign));
            assert!(!verifier.verify(content.as_bytes(), "not base64!"));
        }
        let other = Rsa2Verifier::from_text(&fixture("alipay.public.pem")).unwrap();
        assert!(!other.verify(content.as_bytes(), &sign));
    }

    #[test]
    fn broken_keys_are_refused() {
        assert!(Rsa2Signer::from_text(
            "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"
        )
        .is_err());
        assert!(Rsa2Signer::from_text("not base64 at all!").is_err());
        assert!(Rsa2Verifier::from_text("not a key").is_err());
    }
}
