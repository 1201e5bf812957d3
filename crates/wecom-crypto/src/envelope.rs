//! The two XML envelopes around WeCom's ciphertext.
//!
//! - [`PostEnvelope`]: the body WeCom POSTs to the callback URL,
//!   `<xml><ToUserName>…</ToUserName><AgentID>…</AgentID><Encrypt>…</Encrypt></xml>`; the signature,
//!   timestamp and nonce travel in the query string.
//! - [`ReplyEnvelope`]: the passive reply (and what the simulator pushes back),
//!   `<xml><Encrypt>…</Encrypt><MsgSignature>…</MsgSignature><TimeStamp>…</TimeStamp><Nonce>…</Nonce></xml>`,
//!   which carries its own signature.

use crate::error::{Error, Result};
use crate::xml::{self, push_cdata, push_text};

/// The body of an encrypted callback POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostEnvelope {
    /// `ToUserName`: the corp id (the suite id for third-party suite callbacks), when present.
    pub to_user_name: Option<String>,
    /// `AgentID`: the receiving app's agent id, when present (empty for some events).
    pub agent_id: Option<String>,
    /// `Encrypt`: the base64 ciphertext.
    pub encrypt: String,
}

impl PostEnvelope {
    /// Parses a POST body. `Encrypt` is required and may appear once; the root must be `<xml>`.
    pub fn parse(body: &str) -> Result<Self> {
        let root = xml::parse_xml_root(body)?;
        Ok(PostEnvelope {
            to_user_name: root.text_of("ToUserName")?,
            agent_id: root.text_of("AgentID")?,
            encrypt: root.text_of("Encrypt")?.ok_or(Error::MissingField("Encrypt"))?,
        })
    }

    /// Writes the body as WeCom sends it (CDATA sections, absent fields left out).
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(self.encrypt.len() + 128);
        out.push_str("<xml>");
        if let Some(to) = &self.to_user_name {
            out.push_str("<ToUserName>");
            push_cdata(&mut out, to);
            out.push_str("</ToUserName>");
        }
        if let Some(agent) = &self.agent_id {
            out.push_str("<AgentID>");
            push_cdata(&mut out, agent);
            out.push_str("</AgentID>");
        }
        out.push_str("<Encrypt>");
        push_cdata(&mut out, &self.encrypt);
        out.push_str("</Encrypt></xml>");
        out
    }
}

/// The envelope of an encrypted passive reply: ciphertext plus its own signature, timestamp and nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyEnvelope {
    /// `Encrypt`: the base64 ciphertext.
    pub encrypt: String,
    /// `MsgSignature`: SHA1 hex over the sorted token, timestamp, nonce and ciphertext.
    pub msg_signature: String,
    /// `TimeStamp`: the timestamp that was signed.
    pub timestamp: String,
    /// `Nonce`: the nonce that was signed.
    pub nonce: String,
}

impl ReplyEnvelope {
    /// Parses a reply envelope; all four elements are required, once each.
    pub fn parse(body: &str) -> Result<Self> {
        let root = xml::parse_xml_root(body)?;
        Ok(ReplyEnvelope {
            encrypt: root.text_of("Encrypt")?.ok_or(Error::MissingField("Encrypt"))?,
            msg_signature: root.text_of("MsgSignature")?.ok_or(Error::MissingField("MsgSignature"))?,
            timestamp: root.text_of("TimeStamp")?.ok_or(Error::MissingField("TimeStamp"))?,
            nonce: root.text_of("Nonce")?.ok_or(Error::MissingField("Nonce"))?,
        })
    }

    /// Writes the envelope in WeCom's published layout.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(self.encrypt.len() + 192);
        out.push_str("<xml><Encrypt>");
        push_cdata(&mut out, &self.encrypt);
        out.push_str("</Encrypt><MsgSignature>");
        push_cdata(&mut out, &self.msg_signature);
        out.push_str("</MsgSignature><TimeStamp>");
        push_text(&mut out, &self.timestamp);
        out.push_str("</TimeStamp><Nonce>");
        push_cdata(&mut out, &self.nonce);
        out.push_str("</Nonce></xml>");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_envelope_round_trip() {
        let env = PostEnvelope {
            to_user_name: Some("wx5823bf96d3bd56c7".into()),
            agent_id: Some("218".into()),
            encrypt: "abc+/=".into(),
        };
        assert_eq!(PostEnvelope::parse(&env.to_xml()).unwrap(), env);
        let bare = PostEnvelope { to_user_name: None, agent_id: None, encrypt: "x".into() };
        assert_eq!(PostEnvelope::parse(&bare.to_xml()).unwrap(), bare);
    }

    #[test]
    fn post_envelope_requires_one_encrypt() {
        assert_eq!(PostEnvelope::parse("<xml><ToUserName>a</ToUserName></xml>"), Err(Error::MissingField("Encrypt")));
        assert_eq!(
            PostEnvelope::parse("<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>"),
            Err(Error::DuplicateField("Encrypt".into()))
        );
    }

    #[test]
    fn reply_envelope_round_trip_and_layout() {
        let env = ReplyEnvelope {
            encrypt: "Zm9v".into(),
            msg_signature: "0123".into(),
            timestamp: "1409659813".into(),
            nonce: "1372623149".into(),
        };
        let xml = env.to_xml();
        assert_eq!(
            xml,
            "<xml><Encrypt><![CDATA[Zm9v]]></Encrypt><MsgSignature><![CDATA[0123]]></MsgSignature>\
             <TimeStamp>1409659813</TimeStamp><Nonce><![CDATA[1372623149]]></Nonce></xml>"
        );
        assert_eq!(ReplyEnvelope::parse(&xml).unwrap(), env);
        assert_eq!(ReplyEnvelope::parse("<xml><Encrypt>a</Encrypt></xml>"), Err(Error::MissingField("MsgSignature")));
    }
}
