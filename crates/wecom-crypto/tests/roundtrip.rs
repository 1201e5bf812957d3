//! Property tests: encrypt → decrypt round trips, and tampering is refused with the right error.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use scrm_wecom_crypto::{CallbackCrypto, Error, ReplyEnvelope, pkcs7};

const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

/// EncodingAESKeys as WeCom issues them: 43 characters of [A-Za-z0-9].
fn encoding_aes_key() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{43}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encrypt_then_decrypt(key in encoding_aes_key(), receive_id in "[a-zA-Z0-9]{0,40}", msg in any::<String>()) {
        let c = CallbackCrypto::new("token", &key, receive_id).unwrap();
        let enc = c.encrypt(&msg).unwrap();
        prop_assert_eq!(c.decrypt(&enc).unwrap(), msg);
    }

    #[test]
    fn reply_envelope_round_trip(msg in any::<String>(), ts in "[0-9]{1,12}", nonce in "[A-Za-z0-9]{1,32}") {
        let c = CallbackCrypto::new("QDG6eK", KEY, "wx5823bf96d3bd56c7").unwrap();
        let xml = c.encrypt_message(&msg, &ts, &nonce).unwrap();
        let env = ReplyEnvelope::parse(&xml).unwrap();
        prop_assert_eq!(&env.timestamp, &ts);
        prop_assert_eq!(&env.nonce, &nonce);
        prop_assert_eq!(c.decrypt_message(&env.msg_signature, &ts, &nonce, &xml).unwrap(), msg);
    }

    #[test]
    fn sealed_post_round_trip(msg in any::<String>(), ts in "[0-9]{1,12}", nonce in "\\PC{0,16}", agent in proptest::option::of("[0-9]{1,7}")) {
        let c = CallbackCrypto::new("QDG6eK", KEY, "ww1436e0e65a779aee").unwrap();
        let post = c.seal_post(&msg, &ts, &nonce, Some("ww1436e0e65a779aee"), agent.as_deref()).unwrap();
        prop_assert_eq!(c.decrypt_message(&post.msg_signature, &ts, &nonce, &post.body).unwrap(), msg.clone());
        // The GET path takes the bare ciphertext.
        let env = scrm_wecom_crypto::PostEnvelope::parse(&post.body).unwrap();
        prop_assert_eq!(c.verify_url(&post.msg_signature, &ts, &nonce, &env.encrypt).unwrap(), msg);
    }

    #[test]
    fn any_change_to_the_ciphertext_breaks_the_signature(msg in any::<String>(), pos in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let c = CallbackCrypto::new("QDG6eK", KEY, "corp").unwrap();
        let post = c.seal_post(&msg, "1", "n", None, None).unwrap();
        let env = scrm_wecom_crypto::PostEnvelope::parse(&post.body).unwrap();
        let mut raw = STANDARD.decode(&env.encrypt).unwrap();
        let i = pos.index(raw.len());
        raw[i] ^= flip;
        let tampered = STANDARD.encode(&raw);
        prop_assert_eq!(c.verify_url(&post.msg_signature, "1", "n", &tampered), Err(Error::SignatureMismatch));
        let body = post.body.replace(&env.encrypt, &tampered);
        prop_assert_eq!(c.decrypt_message(&post.msg_signature, "1", "n", &body), Err(Error::SignatureMismatch));
    }

    #[test]
    fn a_wrong_receive_id_is_refused(msg in any::<String>(), ours in "[a-z0-9]{1,20}", theirs in "[A-Z0-9]{1,20}") {
        let sender = CallbackCrypto::new("QDG6eK", KEY, theirs.clone()).unwrap();
        let receiver = CallbackCrypto::new("QDG6eK", KEY, ours.clone()).unwrap();
        let post = sender.seal_post(&msg, "1", "n", None, None).unwrap();
        prop_assert_eq!(
            receiver.decrypt_message(&post.msg_signature, "1", "n", &post.body),
            Err(Error::ReceiveIdMismatch { expected: ours, actual: theirs })
        );
    }

    #[test]
    fn a_tampered_last_block_fails_padding_or_frame(msg in "\\PC{0,200}", flip in 1u8..=255, at in 0usize..16) {
        // Without the signature (decrypt alone), a change to the last block garbles the padding and the
        // receive id: the error is one of those, never a panic, never the original message.
        let c = CallbackCrypto::new("QDG6eK", KEY, "corp").unwrap();
        let enc = c.encrypt_with_random([7; 16], &msg).unwrap();
        let mut raw = STANDARD.decode(&enc).unwrap();
        let n = raw.len();
        raw[n - 16 + at] ^= flip;
        let r = c.decrypt(&STANDARD.encode(&raw));
        prop_assert!(r != Ok(msg.clone()));
        prop_assert!(r.is_err());
    }

    #[test]
    fn frames_with_lying_length_fields_are_refused(msg in "[a-z]{0,64}", declared in any::<u32>()) {
        let c = CallbackCrypto::new("QDG6eK", KEY, "corp").unwrap();
        let mut frame = vec![0u8; 16];
        frame.extend_from_slice(&declared.to_be_bytes());
        frame.extend_from_slice(msg.as_bytes());
        frame.extend_from_slice(b"corp");
        pkcs7::pad(&mut frame);
        let r = c.decrypt(&c.encrypt_raw(&frame).unwrap());
        if declared as usize == msg.len() {
            prop_assert_eq!(r, Ok(msg));
        } else if declared as usize > msg.len() + 4 {
            let is_length_error = matches!(r, Err(Error::LengthOutOfRange { .. }));
            prop_assert!(is_length_error);
        } else {
            let is_receive_id_error = matches!(r, Err(Error::ReceiveIdMismatch { .. }));
            prop_assert!(is_receive_id_error);
        }
    }
}

#[test]
fn malformed_ciphertexts_get_typed_errors() {
    let c = CallbackCrypto::new("QDG6eK", KEY, "corp").unwrap();
    assert_eq!(c.decrypt("not base64!"), Err(Error::InvalidBase64));
    assert_eq!(c.decrypt(""), Err(Error::InvalidCiphertextLength(0)));
    assert_eq!(c.decrypt(&STANDARD.encode([1u8; 15])), Err(Error::InvalidCiphertextLength(15)));
    assert_eq!(c.decrypt(&STANDARD.encode([1u8; 33])), Err(Error::InvalidCiphertextLength(33)));
    // Padding of 0 and of more than 32.
    for last in [0u8, 33, 200] {
        let mut frame = vec![1u8; 64];
        frame[63] = last;
        assert_eq!(c.decrypt(&c.encrypt_raw(&frame).unwrap()), Err(Error::InvalidPadding), "pad byte {last}");
    }
    // Inconsistent padding bytes.
    let mut frame = vec![3u8; 32];
    frame[30] = 4;
    assert_eq!(c.decrypt(&c.encrypt_raw(&frame).unwrap()), Err(Error::InvalidPadding));
    // A frame shorter than its header.
    let mut tiny = vec![9u8; 10];
    pkcs7::pad(&mut tiny);
    assert_eq!(c.decrypt(&c.encrypt_raw(&tiny).unwrap()), Err(Error::FrameTooShort(10)));
    // Non-UTF-8 message.
    let mut frame = vec![0u8; 16];
    frame.extend_from_slice(&2u32.to_be_bytes());
    frame.extend_from_slice(&[0xc3, 0x28]);
    frame.extend_from_slice(b"corp");
    pkcs7::pad(&mut frame);
    assert_eq!(c.decrypt(&c.encrypt_raw(&frame).unwrap()), Err(Error::InvalidUtf8));
    assert_eq!(c.encrypt_raw(&[0; 17]), Err(Error::UnalignedFrame(17)));
    // Bad XML bodies.
    assert!(matches!(c.decrypt_message("x", "1", "n", "garbage"), Err(Error::Xml(_))));
    assert_eq!(c.decrypt_message("x", "1", "n", "<xml></xml>"), Err(Error::MissingField("Encrypt")));
}

#[test]
fn error_codes_are_distinct() {
    let errors = [
        Error::InvalidAesKey("x"),
        Error::InvalidToken,
        Error::SignatureMismatch,
        Error::InvalidBase64,
        Error::InvalidCiphertextLength(0),
        Error::InvalidPadding,
        Error::FrameTooShort(0),
        Error::LengthOutOfRange { declared: 0, available: 0 },
        Error::ReceiveIdMismatch { expected: String::new(), actual: String::new() },
        Error::InvalidUtf8,
        Error::MessageTooLarge(0),
        Error::UnalignedFrame(0),
        Error::Xml(String::new()),
        Error::MissingField("x"),
        Error::DuplicateField(String::new()),
        Error::InvalidField { field: "x", value: String::new() },
    ];
    let codes: std::collections::HashSet<_> = errors.iter().map(Error::code).collect();
    assert_eq!(codes.len(), errors.len());
}
