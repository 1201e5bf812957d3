//! WeCom's official sample vectors, from its published WXBizMsgCrypt sample code (Sample.cpp / Sample.py /
//! Sample.java / Sample.cs / Sample.php all carry the same values) and the 加解密方案 documentation page.
//!
//! Configuration: token `QDG6eK`, corp id `wx5823bf96d3bd56c7`, EncodingAESKey
//! `jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C`.
//! 1. URL verification: `GET /cgi-bin/wxpush?msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3
//!    &timestamp=1409659589&nonce=263014780&echostr=P9nAzCzy…` (URL-decoded below).
//! 2. A POST: `msg_signature=477715d11cdb4164915debcba66cb864d751f3e6&timestamp=1409659813&nonce=1372623149`
//!    with the body below; the documentation gives the decrypted plaintext.
//! 3. A reply: the samples encrypt `sRespData` and decrypt it back.

use scrm_wecom_crypto::{CallbackCrypto, Error, PostEnvelope, ReplyEnvelope, signature};

const TOKEN: &str = "QDG6eK";
const CORP_ID: &str = "wx5823bf96d3bd56c7";
const ENCODING_AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

const VERIFY_MSG_SIG: &str = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3";
const VERIFY_TIMESTAMP: &str = "1409659589";
const VERIFY_NONCE: &str = "263014780";
const VERIFY_ECHOSTR: &str = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";

const REQ_MSG_SIG: &str = "477715d11cdb4164915debcba66cb864d751f3e6";
const REQ_TIMESTAMP: &str = "1409659813";
const REQ_NONCE: &str = "1372623149";
const REQ_ENCRYPT: &str = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==";

/// The plaintext WeCom's documentation gives for `REQ_ENCRYPT` (newline-separated, no trailing newline
/// after `</xml>`).
const REQ_PLAINTEXT: &str = "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n\
<FromUserName><![CDATA[mycreate]]></FromUserName>\n\
<CreateTime>1409659813</CreateTime>\n\
<MsgType><![CDATA[text]]></MsgType>\n\
<Content><![CDATA[hello]]></Content>\n\
<MsgId>4561255354251345929</MsgId>\n\
<AgentID>218</AgentID>\n\
</xml>";

fn official() -> CallbackCrypto {
    CallbackCrypto::new(TOKEN, ENCODING_AES_KEY, CORP_ID).expect("official configuration")
}

fn req_body() -> String {
    format!(
        "<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{REQ_ENCRYPT}]]></Encrypt>\
         <AgentID><![CDATA[218]]></AgentID></xml>"
    )
}

#[test]
fn official_signatures() {
    assert_eq!(signature(TOKEN, VERIFY_TIMESTAMP, VERIFY_NONCE, VERIFY_ECHOSTR), VERIFY_MSG_SIG);
    assert_eq!(signature(TOKEN, REQ_TIMESTAMP, REQ_NONCE, REQ_ENCRYPT), REQ_MSG_SIG);
}

#[test]
fn official_url_verification() {
    let echo = official().verify_url(VERIFY_MSG_SIG, VERIFY_TIMESTAMP, VERIFY_NONCE, VERIFY_ECHOSTR).unwrap();
    assert_eq!(echo, "1616140317555161061");
}

#[test]
fn official_post_decrypts_to_the_documented_plaintext() {
    let xml = official().decrypt_message(REQ_MSG_SIG, REQ_TIMESTAMP, REQ_NONCE, &req_body()).unwrap();
    assert_eq!(xml, REQ_PLAINTEXT);
    // The sample body without AgentID (Sample.cs, Sample.py) too.
    let body = format!(
        "<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{REQ_ENCRYPT}]]></Encrypt></xml>"
    );
    assert_eq!(official().decrypt_message(REQ_MSG_SIG, REQ_TIMESTAMP, REQ_NONCE, &body).unwrap(), REQ_PLAINTEXT);
    // Uppercase hex in the signature is the same signature.
    let upper = REQ_MSG_SIG.to_ascii_uppercase();
    assert_eq!(official().decrypt_message(&upper, REQ_TIMESTAMP, REQ_NONCE, &body).unwrap(), REQ_PLAINTEXT);
}

#[test]
fn official_plaintext_is_a_text_message() {
    let xml = official().decrypt_message(REQ_MSG_SIG, REQ_TIMESTAMP, REQ_NONCE, &req_body()).unwrap();
    match scrm_wecom_crypto::parse_event(&xml).unwrap() {
        scrm_wecom_crypto::CallbackEvent::Unknown { event, change_type, raw } => {
            assert_eq!(event, "text");
            assert_eq!(change_type, None);
            assert_eq!(raw, REQ_PLAINTEXT);
        }
        other => panic!("expected Unknown, got {other:?}"),
    }
}

#[test]
fn official_reply_round_trip() {
    // sRespData of the samples (with its Chinese text: the length field counts bytes, not characters).
    let resp = "<xml><ToUserName><![CDATA[mycreate]]></ToUserName><FromUserName><![CDATA[wx582测试一下中文的情况，消息长度是按字节来算的396d3bd56c7]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is这是一个中文测试 a test]]></Content><MsgId>1234567890123456</MsgId><AgentID>128</AgentID></xml>";
    let crypto = official();
    let envelope_xml = crypto.encrypt_message(resp, REQ_TIMESTAMP, REQ_NONCE).unwrap();
    let env = ReplyEnvelope::parse(&envelope_xml).unwrap();
    assert_eq!(env.timestamp, REQ_TIMESTAMP);
    assert_eq!(env.nonce, REQ_NONCE);
    assert_eq!(env.msg_signature, signature(TOKEN, REQ_TIMESTAMP, REQ_NONCE, &env.encrypt));
    // As the samples do: decrypt the reply envelope with its own signature.
    let back = crypto.decrypt_message(&env.msg_signature, &env.timestamp, &env.nonce, &envelope_xml).unwrap();
    assert_eq!(back, resp);
}

#[test]
fn official_vectors_refuse_forgeries() {
    let crypto = official();
    // A wrong signature.
    assert_eq!(
        crypto.verify_url("0000000000000000000000000000000000000000", VERIFY_TIMESTAMP, VERIFY_NONCE, VERIFY_ECHOSTR),
        Err(Error::SignatureMismatch)
    );
    assert_eq!(
        crypto.decrypt_message(REQ_MSG_SIG, "1409659814", REQ_NONCE, &req_body()),
        Err(Error::SignatureMismatch)
    );
    assert_eq!(
        crypto.decrypt_message(REQ_MSG_SIG, REQ_TIMESTAMP, REQ_NONCE, &req_body().replacen("Ryp", "Ryq", 1)),
        Err(Error::SignatureMismatch)
    );
    // A wrong token.
    let other_token = CallbackCrypto::new("QDG6eL", ENCODING_AES_KEY, CORP_ID).unwrap();
    assert_eq!(
        other_token.decrypt_message(REQ_MSG_SIG, REQ_TIMESTAMP, REQ_NONCE, &req_body()),
        Err(Error::SignatureMismatch)
    );
    // A wrong corp id: the signature is right, the receive id inside is not ours.
    let other_corp = CallbackCrypto::new(TOKEN, ENCODING_AES_KEY, "wwffffffffffffffff").unwrap();
    assert_eq!(
        other_corp.decrypt_message(REQ_MSG_SIG, REQ_TIMESTAMP, REQ_NONCE, &req_body()),
        Err(Error::ReceiveIdMismatch { expected: "wwffffffffffffffff".into(), actual: CORP_ID.into() })
    );
    assert!(matches!(
        other_corp.verify_url(VERIFY_MSG_SIG, VERIFY_TIMESTAMP, VERIFY_NONCE, VERIFY_ECHOSTR),
        Err(Error::ReceiveIdMismatch { .. })
    ));
    // A different key: the padding (or, rarely, the frame) no longer checks out.
    let other_key = CallbackCrypto::new(TOKEN, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", CORP_ID).unwrap();
    assert!(other_key.decrypt_message(REQ_MSG_SIG, REQ_TIMESTAMP, REQ_NONCE, &req_body()).is_err());
}

#[test]
fn post_envelope_of_the_official_body() {
    let env = PostEnvelope::parse(&req_body()).unwrap();
    assert_eq!(env.to_user_name.as_deref(), Some(CORP_ID));
    assert_eq!(env.agent_id.as_deref(), Some("218"));
    assert_eq!(env.encrypt, REQ_ENCRYPT);
}
