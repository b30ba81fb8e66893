//! Short signed tokens: base32 (RFC 4648, upper case, no padding) of a few varint fields
//! followed by a truncated HMAC-SHA-256 tag. Used for venue codes and paper codes, each
//! with its own domain label so a token of one kind is never valid as the other.
//!
//! A signer holds one or more keys: it signs with the first and accepts a tag of any, so a key
//! is rotated without voiding what hangs on walls. The token does not name its key — every byte
//! makes a poster's QR code denser — so a token is checked against each key in turn (a few
//! HMACs) and the key that matched is told.

use hmac::{Hmac, Mac};
use sha2::Sha256;

const TAG_LEN: usize = 10;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of this shape.
    Malformed,
    /// Shaped right, but the tag does not match: forged or altered.
    Forged,
}

#[derive(Clone)]
pub struct CompactSigner {
    /// (id, key), the first the one new tokens are signed with.
    keys: Vec<(String, [u8; 32])>,
}

impl CompactSigner {
    /// A signer of one key, under the id `default`.
    pub fn new(key: [u8; 32]) -> Self {
        Self::with_keys(vec![("default".to_owned(), key)])
    }

    /// A signer of these keys, the first current.
    pub fn with_keys(keys: Vec<(String, [u8; 32])>) -> Self {
        assert!(!keys.is_empty(), "a signer needs a key");
        Self { keys }
    }

    /// The id of the key new tokens are signed with.
    pub fn current_key_id(&self) -> &str {
        &self.keys[0].0
    }

    pub fn sign(&self, domain: &[u8], fields: &[u64]) -> String {
        let mut bytes = Vec::with_capacity(24);
        for field in fields {
            write_varint(&mut bytes, *field);
        }
        let tag = tag_of(&self.keys[0].1, domain, &bytes);
        bytes.extend_from_slice(&tag);
        base32_encode(&bytes)
    }

    /// The `count` fields of a genuine token.
    pub fn verify(&self, domain: &[u8], token: &str, count: usize) -> Result<Vec<u64>, TokenError> {
        self.verify_with_key(domain, token, count)
            .map(|(fields, _)| fields)
    }

    /// The `count` fields of a genuine token, and the id of the key that signed it.
    pub fn verify_with_key(
        &self,
        domain: &[u8],
        token: &str,
        count: usize,
    ) -> Result<(Vec<u64>, &str), TokenError> {
        if token.is_empty() || token.len() > 64 {
            return Err(TokenError::Malformed);
        }
        let bytes = base32_decode(token).ok_or(TokenError::Malformed)?;
        if bytes.len() <= TAG_LEN {
            return Err(TokenError::Malformed);
        }
        let (payload, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        let mut reader = payload;
        let mut fields = Vec::with_capacity(count);
        for _ in 0..count {
            fields.push(read_varint(&mut reader).ok_or(TokenError::Malformed)?);
        }
        if !reader.is_empty() {
            return Err(TokenError::Malformed);
        }
        let signed_by = self
            .keys
            .iter()
            .find(|(_, key)| constant_time_eq(&tag_of(key, domain, payload), tag))
            .ok_or(TokenError::Forged)?;
        Ok((fields, signed_by.0.as_str()))
    }
}

fn tag_of(key: &[u8; 32], domain: &[u8], payload: &[u8]) -> [u8; TAG_LEN] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(domain);
    mac.update(payload);
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(&full[..TAG_LEN]);
    tag
}

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes unpadded base32, either case. Leftover bits must be zero, so each byte string has
/// exactly one spelling.
fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = BASE32.iter().position(|&b| b == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    (bits < 5 && buffer == 0).then_some(out)
}

/// Equality that takes as long whichever byte differs.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_varint(input: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_round_trips_and_has_one_spelling() {
        for bytes in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"fooba",
            b"foobar",
            &[255u8; 13],
        ] {
            assert_eq!(base32_decode(&base32_encode(bytes)).unwrap(), bytes);
        }
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        // "MZXW6YTBOJ" differs only in leftover bits and must not decode.
        assert_eq!(base32_decode("MZXW6YTBOJ"), None);
    }

    #[test]
    fn domains_keep_kinds_apart() {
        let signer = CompactSigner::new([3u8; 32]);
        let token = signer.sign(b"one", &[5, 6]);
        assert_eq!(signer.verify(b"one", &token, 2), Ok(vec![5, 6]));
        assert_eq!(signer.verify(b"two", &token, 2), Err(TokenError::Forged));
        assert_eq!(signer.verify(b"one", &token, 3), Err(TokenError::Malformed));
    }
}
