//! [`CallbackCrypto`]: WeCom's callback encryption scheme (加解密方案, the WXBizMsgCrypt samples).

use std::fmt;

use aes::Aes256;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::{DecodePaddingMode, general_purpose};
use rand::RngCore;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::envelope::{PostEnvelope, ReplyEnvelope};
use crate::error::{Error, Result, clip};
use crate::pkcs7;

/// Length of a WeCom EncodingAESKey in characters.
pub const ENCODING_AES_KEY_LEN: usize = 43;

/// Bytes of randomness at the head of every plaintext frame.
const RANDOM_LEN: usize = 16;
/// Bytes of the big-endian message length after the random bytes.
const LENGTH_LEN: usize = 4;

/// WeCom's EncodingAESKeys are not canonical base64: the 43rd character carries 2 stray low bits that a
/// strict decoder rejects, so the key is decoded with trailing bits allowed (as WeCom's own samples do).
const LENIENT_KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

type Aes256CbcEnc = cbc::Encryptor<Aes256>;
type Aes256CbcDec = cbc::Decryptor<Aes256>;

/// A callback POST sealed the way WeCom sends it: the query's `msg_signature` plus the XML body. The
/// simulator uses it to push events; tests use it to drive the receiving side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedPost {
    /// The `msg_signature` query parameter.
    pub msg_signature: String,
    /// The `timestamp` query parameter that was signed.
    pub timestamp: String,
    /// The `nonce` query parameter that was signed.
    pub nonce: String,
    /// The XML body (`<xml><ToUserName/><AgentID/><Encrypt/></xml>`).
    pub body: String,
}

/// The crypto of one WeCom callback configuration: its token, its AES key (from the EncodingAESKey) and the
/// receive id its messages must carry (the corp id for a corp's own app; the suite id for a third-party
/// suite's callbacks; an empty string for personal third-party apps).
///
/// - Signature: SHA1 hex of the lexicographically sorted concatenation of token, timestamp, nonce and
///   ciphertext; compared in constant time.
/// - Cipher: AES-256-CBC, key = base64(EncodingAESKey + "="), IV = the key's first 16 bytes, no cipher-level
///   padding; PKCS#7 with a 32-byte block over the frame
///   `random(16) ‖ msg_len(4, big endian) ‖ msg ‖ receive_id`; base64 outside.
///
/// `Debug` shows the receive id only, never the token or key.
#[derive(Clone)]
pub struct CallbackCrypto {
    token: String,
    key: [u8; 32],
    iv: [u8; 16],
    receive_id: String,
}

impl fmt::Debug for CallbackCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackCrypto")
            .field("receive_id", &self.receive_id)
            .field("token", &"<redacted>")
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Decodes a 43-character EncodingAESKey into the 32-byte AES key (leniently, see the module docs).
pub fn decode_encoding_aes_key(encoding_aes_key: &str) -> Result<[u8; 32]> {
    if encoding_aes_key.len() != ENCODING_AES_KEY_LEN {
        return Err(Error::InvalidAesKey("it must be 43 characters"));
    }
    let mut padded = String::with_capacity(ENCODING_AES_KEY_LEN + 1);
    padded.push_str(encoding_aes_key);
    padded.push('=');
    let bytes =
        LENIENT_KEY_ENGINE.decode(padded.as_bytes()).map_err(|_| Error::InvalidAesKey("it is not valid base64"))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| Error::InvalidAesKey("it does not decode to 32 bytes"))
}

/// SHA1 hex (lowercase) of the sorted concatenation of the four strings: WeCom's `msg_signature`.
pub fn signature(token: &str, timestamp: &str, nonce: &str, encrypted: &str) -> String {
    let mut parts = [token, timestamp, nonce, encrypted];
    parts.sort_unstable();
    let mut hasher = Sha1::new();
    for p in parts {
        hasher.update(p.as_bytes());
    }
    hex(&hasher.finalize())
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

impl CallbackCrypto {
    /// Configures the crypto from the app's callback settings: the Token, the 43-character EncodingAESKey and
    /// the receive id (corp id, or suite id for third-party suite callbacks).
    ///
    /// Errors: [`Error::InvalidToken`] for an empty token; [`Error::InvalidAesKey`] for a key that is not 43
    /// characters of base64 decoding to 32 bytes.
    pub fn new(token: impl Into<String>, encoding_aes_key: &str, receive_id: impl Into<String>) -> Result<Self> {
        let token = token.into();
        if token.is_empty() {
            return Err(Error::InvalidToken);
        }
        let key = decode_encoding_aes_key(encoding_aes_key)?;
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&key[..16]);
        Ok(CallbackCrypto { token, key, iv, receive_id: receive_id.into() })
    }

    /// The receive id every decrypted message must carry.
    pub fn receive_id(&self) -> &str {
        &self.receive_id
    }

    /// The callback Token, e.g. for a simulated WeCom that must sign with it.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The EncodingAESKey in its canonical 43-character form.
    pub fn encoding_aes_key(&self) -> String {
        general_purpose::STANDARD_NO_PAD.encode(self.key)
    }

    /// The `msg_signature` of `encrypted` under this token, timestamp and nonce.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypted: &str) -> String {
        signature(&self.token, timestamp, nonce, encrypted)
    }

    /// Checks `msg_signature` against the expected one in constant time (hex case-insensitively).
    pub fn verify_signature(&self, msg_signature: &str, timestamp: &str, nonce: &str, encrypted: &str) -> Result<()> {
        let expected = self.signature(timestamp, nonce, encrypted);
        let given = msg_signature.trim().to_ascii_lowercase();
        if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) { Ok(()) } else { Err(Error::SignatureMismatch) }
    }

    /// GET URL verification: verifies the signature over `echostr`, decrypts it and returns the plaintext,
    /// which the callback must answer verbatim. The parameters must already be URL-decoded.
    pub fn verify_url(&self, msg_signature: &str, timestamp: &str, nonce: &str, echostr: &str) -> Result<String> {
        self.verify_signature(msg_signature, timestamp, nonce, echostr)?;
        self.decrypt(echostr)
    }

    /// An encrypted callback POST: parses the body, verifies the signature over its `Encrypt`, decrypts it,
    /// checks the receive id and returns the inner XML (parse it with [`crate::event::parse_event`]).
    ///
    /// Also accepts a [`ReplyEnvelope`] body, as the `Encrypt` element is all that is read.
    pub fn decrypt_message(&self, msg_signature: &str, timestamp: &str, nonce: &str, body: &str) -> Result<String> {
        let envelope = PostEnvelope::parse(body)?;
        self.verify_signature(msg_signature, timestamp, nonce, &envelope.encrypt)?;
        self.decrypt(&envelope.encrypt)
    }

    /// Encrypts a passive reply (or a pushed message) and wraps it in the signed [`ReplyEnvelope`] XML.
    pub fn encrypt_message(&self, plaintext: &str, timestamp: &str, nonce: &str) -> Result<String> {
        let encrypt = self.encrypt(plaintext)?;
        let msg_signature = self.signature(timestamp, nonce, &encrypt);
        Ok(ReplyEnvelope { encrypt, msg_signature, timestamp: timestamp.to_owned(), nonce: nonce.to_owned() }.to_xml())
    }

    /// Seals a callback POST as WeCom sends it: the encrypted body plus the query's signature. For the
    /// simulator and tests.
    pub fn seal_post(
        &self,
        plaintext: &str,
        timestamp: &str,
        nonce: &str,
        to_user_name: Option<&str>,
        agent_id: Option<&str>,
    ) -> Result<SealedPost> {
        let encrypt = self.encrypt(plaintext)?;
        let msg_signature = self.signature(timestamp, nonce, &encrypt);
        let body = PostEnvelope {
            to_user_name: to_user_name.map(str::to_owned),
            agent_id: agent_id.map(str::to_owned),
            encrypt,
        }
        .to_xml();
        Ok(SealedPost { msg_signature, timestamp: timestamp.to_owned(), nonce: nonce.to_owned(), body })
    }

    /// Encrypts `msg` with 16 fresh random bytes; returns the base64 ciphertext.
    pub fn encrypt(&self, msg: &str) -> Result<String> {
        let mut random = [0u8; RANDOM_LEN];
        rand::rng().fill_bytes(&mut random);
        self.encrypt_with_random(random, msg)
    }

    /// Encrypts `msg` with the given 16 "random" bytes (deterministic, for tests and reproducible vectors).
    pub fn encrypt_with_random(&self, random: [u8; 16], msg: &str) -> Result<String> {
        let len = u32::try_from(msg.len()).map_err(|_| Error::MessageTooLarge(msg.len()))?;
        let mut frame = Vec::with_capacity(RANDOM_LEN + LENGTH_LEN + msg.len() + self.receive_id.len() + 32);
        frame.extend_from_slice(&random);
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(msg.as_bytes());
        frame.extend_from_slice(self.receive_id.as_bytes());
        pkcs7::pad(&mut frame);
        self.seal(frame)
    }

    /// Encrypts an arbitrary, already framed and padded plaintext (its length must be a multiple of 16);
    /// returns base64. Lets tests, fuzzing and the simulator's fault injection build malformed frames
    /// (a lying length field, a wrong receive id, bad padding) that still decrypt.
    pub fn encrypt_raw(&self, frame: &[u8]) -> Result<String> {
        if !frame.len().is_multiple_of(16) {
            return Err(Error::UnalignedFrame(frame.len()));
        }
        self.seal(frame.to_vec())
    }

    fn seal(&self, mut frame: Vec<u8>) -> Result<String> {
        let len = frame.len();
        let cipher = Aes256CbcEnc::new(&self.key.into(), &self.iv.into());
        cipher.encrypt_padded_mut::<NoPadding>(&mut frame, len).map_err(|_| Error::UnalignedFrame(len))?;
        Ok(STANDARD.encode(&frame))
    }

    /// Decrypts a base64 ciphertext (an `Encrypt` element or an `echostr`) WITHOUT checking any signature,
    /// checks the padding, the frame and the receive id, and returns the message.
    ///
    /// Callers handling input from the network should use [`Self::verify_url`] or [`Self::decrypt_message`],
    /// which verify the signature first.
    pub fn decrypt(&self, encrypted: &str) -> Result<String> {
        let mut data =
            general_purpose::STANDARD.decode(encrypted.trim().as_bytes()).map_err(|_| Error::InvalidBase64)?;
        if data.is_empty() || !data.len().is_multiple_of(16) {
            return Err(Error::InvalidCiphertextLength(data.len()));
        }
        let cipher = Aes256CbcDec::new(&self.key.into(), &self.iv.into());
        let plain = cipher.decrypt_padded_mut::<NoPadding>(&mut data).map_err(|_| Error::InvalidCiphertextLength(0))?;
        let frame = pkcs7::unpad(plain)?;
        self.open_frame(frame)
    }

    /// Splits an unpadded frame into message and receive id, checking both.
    fn open_frame(&self, frame: &[u8]) -> Result<String> {
        let too_short = || Error::FrameTooShort(frame.len());
        let body = frame.get(RANDOM_LEN..).ok_or_else(too_short)?;
        let (len, rest) = body.split_first_chunk::<LENGTH_LEN>().ok_or_else(too_short)?;
        let declared = u32::from_be_bytes(*len);
        let out_of_range = || Error::LengthOutOfRange { declared: u64::from(declared), available: rest.len() };
        let msg_len = usize::try_from(declared).map_err(|_| out_of_range())?;
        let (msg, receive_id) = rest.split_at_checked(msg_len).ok_or_else(out_of_range)?;
        if !bool::from(receive_id.ct_eq(self.receive_id.as_bytes())) {
            return Err(Error::ReceiveIdMismatch {
                expected: self.receive_id.clone(),
                actual: clip(&String::from_utf8_lossy(receive_id)),
            });
        }
        String::from_utf8(msg.to_vec()).map_err(|_| Error::InvalidUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

    #[test]
    fn key_decoding_is_lenient_about_trailing_bits_only() {
        // The official sample key is not canonical base64: a strict decoder refuses it.
        assert!(STANDARD.decode(format!("{KEY}=")).is_err());
        assert_eq!(decode_encoding_aes_key(KEY).unwrap().len(), 32);
        assert_eq!(decode_encoding_aes_key(&KEY[..42]), Err(Error::InvalidAesKey("it must be 43 characters")));
        assert_eq!(decode_encoding_aes_key(&format!("{KEY}A")), Err(Error::InvalidAesKey("it must be 43 characters")));
        let bad = format!("{}!", &KEY[..42]);
        assert_eq!(decode_encoding_aes_key(&bad), Err(Error::InvalidAesKey("it is not valid base64")));
        // Multi-byte characters make the byte length wrong, never a panic.
        assert!(decode_encoding_aes_key(&"é".repeat(21)).is_err());
        assert!(decode_encoding_aes_key(&format!("{}é", &KEY[..41])).is_err());
    }

    #[test]
    fn empty_token_is_refused() {
        assert_eq!(CallbackCrypto::new("", KEY, "corp").unwrap_err(), Error::InvalidToken);
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = CallbackCrypto::new("secret-token", KEY, "corp").unwrap();
        let s = format!("{c:?}");
        assert!(s.contains("corp") && !s.contains("secret-token"));
    }

    #[test]
    fn frame_errors() {
        let c = CallbackCrypto::new("t", KEY, "corp").unwrap();
        assert_eq!(c.open_frame(&[0; 19]), Err(Error::FrameTooShort(19)));
        let mut f = vec![0u8; 16];
        f.extend_from_slice(&100u32.to_be_bytes());
        f.extend_from_slice(b"abc");
        assert_eq!(c.open_frame(&f), Err(Error::LengthOutOfRange { declared: 100, available: 3 }));
        let mut f = vec![0u8; 16];
        f.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(c.open_frame(&f), Err(Error::LengthOutOfRange { .. })));
        let mut f = vec![0u8; 16];
        f.extend_from_slice(&2u32.to_be_bytes());
        f.extend_from_slice(&[0xff, 0xfe]);
        f.extend_from_slice(b"corp");
        assert_eq!(c.open_frame(&f), Err(Error::InvalidUtf8));
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0x0f]), "00ab0f");
    }
}
