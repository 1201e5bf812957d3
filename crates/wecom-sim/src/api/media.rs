//! Media uploads: `media/upload` (temporary media, valid 3 days) and `media/uploadimg` (permanent image URL).
//! Both take a `multipart/form-data` body whose file part is named `media`.

use serde_json::json;

use super::{ApiError, R, Req, err};
use crate::sim::{Media, State};
use crate::world::random_id;

/// How long a temporary media id stays valid (WeCom: 3 days).
pub(crate) const MEDIA_TTL_MS: i64 = 3 * 86_400 * 1000;

/// The `media` file of a multipart body: its file name and size.
fn media_part<'a>(r: &Req<'a>) -> Result<(String, &'a [u8]), ApiError> {
    let missing = || err(41005, "media data missing");
    let ct = r.content_type.ok_or_else(missing)?;
    if !ct.to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(missing());
    }
    let boundary = ct
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or_else(missing)?;
    let delimiter = format!("--{boundary}");
    let body = r.raw;
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(pos) = find(rest, delimiter.as_bytes()) {
        parts.push(&rest[..pos]);
        rest = &rest[pos + delimiter.len()..];
    }
    for part in parts.into_iter().skip(1) {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(split) = find(part, b"\r\n\r\n") else { continue };
        let headers = String::from_utf8_lossy(&part[..split]);
        let data = &part[split + 4..];
        let data = data.strip_suffix(b"\r\n").unwrap_or(data);
        let disposition =
            headers.lines().find(|l| l.to_ascii_lowercase().starts_with("content-disposition:")).unwrap_or_default();
        if !disposition.contains("name=\"media\"") {
            continue;
        }
        let filename = disposition
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("filename="))
            .next()
            .map(|f| f.trim_matches('"').to_string())
            .unwrap_or_default();
        return Ok((filename, data));
    }
    Err(missing())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// WeCom's size limits per media type, in bytes.
fn max_size(kind: &str) -> Option<usize> {
    match kind {
        "image" | "video" => Some(10 << 20),
        "voice" => Some(2 << 20),
        "file" => Some(20 << 20),
        _ => None,
    }
}

fn is_image_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".jpg") || lower.ends_with(".jpeg") || lower.ends_with(".png")
}

impl State {
    pub(super) fn media_upload(&mut self, r: &Req) -> R {
        let kind = r.q("type").unwrap_or_default();
        let max = max_size(kind).ok_or_else(|| err(40004, "invalid media type"))?;
        let (filename, data) = media_part(r)?;
        if data.is_empty() {
            return Err(err(44001, "empty media data"));
        }
        if data.len() < 5 || data.len() > max {
            return Err(err(40006, "invalid file size"));
        }
        if kind == "image" && !is_image_name(&filename) {
            return Err(err(40005, "invalid file type"));
        }
        let media_id = format!("3{}", random_id(&mut self.rng, "", 63));
        self.media.insert(media_id.clone(), Media { expires_ms: r.now_ms + MEDIA_TTL_MS });
        // WeCom sends created_at as a string.
        Ok(json!({ "type": kind, "media_id": media_id, "created_at": r.now().to_string() }))
    }

    pub(super) fn media_uploadimg(&mut self, r: &Req) -> R {
        let (filename, data) = media_part(r)?;
        if data.is_empty() {
            return Err(err(44001, "empty media data"));
        }
        if data.len() < 5 || data.len() > 2 << 20 {
            return Err(err(40006, "invalid file size"));
        }
        if !is_image_name(&filename) {
            return Err(err(40005, "invalid file type"));
        }
        let id = random_id(&mut self.rng, "", 40).to_lowercase();
        Ok(json!({ "url": format!("https://wework.qpic.cn/wwpic/sim_{id}/0") }))
    }
}
