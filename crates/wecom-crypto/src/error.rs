//! The one error type of this crate.

/// Result of every fallible operation in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while configuring, verifying, decrypting, encrypting or parsing a WeCom
/// callback. Every malformed input maps to one of these; nothing in this crate panics on input.
///
/// [`Error::code`] gives a short stable name for logs and metrics labels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The EncodingAESKey is not 43 base64 characters decoding to a 32-byte AES key.
    #[error("invalid EncodingAESKey: {0}")]
    InvalidAesKey(&'static str),
    /// The callback token is empty (an empty token would make every signature forgeable).
    #[error("invalid callback token: it must not be empty")]
    InvalidToken,
    /// `msg_signature` does not match SHA1(sort(token, timestamp, nonce, ciphertext)).
    #[error("signature mismatch")]
    SignatureMismatch,
    /// The ciphertext (`Encrypt` / `echostr`) is not valid base64.
    #[error("ciphertext is not valid base64")]
    InvalidBase64,
    /// The decoded ciphertext is empty or not a multiple of the 16-byte AES block.
    #[error("ciphertext length {0} is not a positive multiple of 16")]
    InvalidCiphertextLength(usize),
    /// The decrypted plaintext does not end in valid 32-byte-block PKCS#7 padding.
    #[error("invalid PKCS#7 padding")]
    InvalidPadding,
    /// The unpadded plaintext is shorter than the 16 random bytes and the 4-byte length.
    #[error("decrypted frame of {0} bytes is shorter than its 20-byte header")]
    FrameTooShort(usize),
    /// The 4-byte message length points past the end of the plaintext.
    #[error("message length {declared} exceeds the {available} bytes available")]
    LengthOutOfRange {
        /// The length the frame declares.
        declared: u64,
        /// The bytes actually left after the header.
        available: usize,
    },
    /// The receive id at the end of the plaintext (corp id, or suite id for a third-party app) is not the
    /// configured one.
    #[error("receive id mismatch: expected {expected:?}, got {actual:?}")]
    ReceiveIdMismatch {
        /// The configured receive id.
        expected: String,
        /// What the message carried (lossily decoded, cut to 64 characters).
        actual: String,
    },
    /// The decrypted message is not UTF-8.
    #[error("decrypted message is not UTF-8")]
    InvalidUtf8,
    /// A message to encrypt is longer than the 4-byte length field can say.
    #[error("message of {0} bytes is too large to encrypt")]
    MessageTooLarge(usize),
    /// A raw frame handed to [`crate::CallbackCrypto::encrypt_raw`] is not a multiple of 16 bytes.
    #[error("raw frame of {0} bytes is not a multiple of 16")]
    UnalignedFrame(usize),
    /// The XML is not well formed, or uses something this crate refuses (a DTD, an unknown entity).
    #[error("malformed XML: {0}")]
    Xml(String),
    /// A required element is absent.
    #[error("missing element <{0}>")]
    MissingField(&'static str),
    /// An element that must appear once appears several times.
    #[error("element <{0}> appears more than once")]
    DuplicateField(String),
    /// An element holds a value of the wrong shape (e.g. a non-numeric id).
    #[error("element <{field}> has an invalid value {value:?}")]
    InvalidField {
        /// The element name.
        field: &'static str,
        /// The value found (cut to 64 characters).
        value: String,
    },
}

impl Error {
    /// A short stable name of the error kind, for logs and metrics labels.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidAesKey(_) => "invalid_aes_key",
            Error::InvalidToken => "invalid_token",
            Error::SignatureMismatch => "signature_mismatch",
            Error::InvalidBase64 => "invalid_base64",
            Error::InvalidCiphertextLength(_) => "invalid_ciphertext_length",
            Error::InvalidPadding => "invalid_padding",
            Error::FrameTooShort(_) => "frame_too_short",
            Error::LengthOutOfRange { .. } => "length_out_of_range",
            Error::ReceiveIdMismatch { .. } => "receive_id_mismatch",
            Error::InvalidUtf8 => "invalid_utf8",
            Error::MessageTooLarge(_) => "message_too_large",
            Error::UnalignedFrame(_) => "unaligned_frame",
            Error::Xml(_) => "malformed_xml",
            Error::MissingField(_) => "missing_field",
            Error::DuplicateField(_) => "duplicate_field",
            Error::InvalidField { .. } => "invalid_field",
        }
    }
}

/// Cuts `s` to at most 64 characters, for error messages that echo input.
pub(crate) fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}
