//! Media uploads: temporary media (`media/upload`, valid 3 days) and permanent images
//! (`media/uploadimg`).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::client::{ApiRequest, Body, CallKind, WeComClient};
use crate::{WeComError, de};

/// Kind of temporary media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    /// Image (≤ 10 MB, JPG/PNG).
    Image,
    /// Voice (≤ 2 MB, AMR).
    Voice,
    /// Video (≤ 10 MB, MP4).
    Video,
    /// File (≤ 20 MB).
    File,
}

impl MediaType {
    /// WeCom's name of the kind (`type=` of `media/upload`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Voice => "voice",
            Self::Video => "video",
            Self::File => "file",
        }
    }
}

/// A file to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// File name sent in the multipart part.
    pub filename: String,
    /// Content type of the part (`application/octet-stream` when `None`).
    pub content_type: Option<String>,
    /// The content.
    pub data: Bytes,
}

impl Upload {
    /// A file named `filename` with content `data`.
    pub fn new(filename: impl Into<String>, data: impl Into<Bytes>) -> Self {
        Self { filename: filename.into(), content_type: None, data: data.into() }
    }
}

/// `media/upload`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaUploadResponse {
    /// The kind uploaded.
    #[serde(rename = "type")]
    pub media_type: String,
    /// Temporary media id, valid 3 days.
    pub media_id: String,
    /// Upload time (Unix seconds; WeCom sends a string).
    #[serde(deserialize_with = "de::int")]
    pub created_at: i64,
}

/// `media/uploadimg`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadImgResponse {
    /// Permanent image URL.
    pub url: String,
}

fn multipart(api: &'static str, file: &Upload) -> ApiRequest {
    ApiRequest {
        body: Body::Multipart {
            field: "media",
            filename: file.filename.clone(),
            content_type: file.content_type.clone(),
            data: file.data.clone(),
        },
        method: crate::client::Method::Post,
        // An upload twice gives two media ids; harmless, and uploads fail often on bad networks.
        kind: CallKind::Idempotent,
        ..ApiRequest::get(api)
    }
}

impl WeComClient {
    /// `POST media/upload?type=` (multipart, field `media`): uploads temporary media.
    pub async fn media_upload(&self, media_type: MediaType, file: &Upload) -> Result<MediaUploadResponse, WeComError> {
        self.execute(multipart("media/upload", file).query("type", media_type.as_str())).await
    }

    /// `POST media/uploadimg` (multipart, field `media`): uploads an image for use in messages,
    /// returning a permanent URL.
    pub async fn media_uploadimg(&self, file: &Upload) -> Result<UploadImgResponse, WeComError> {
        self.execute(multipart("media/uploadimg", file)).await
    }
}
