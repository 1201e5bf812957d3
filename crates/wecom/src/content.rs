//! Message contents shared by several APIs (group messages, welcome messages, contact-way
//! conclusions): text, image, link, mini program, video, file, and the `attachments` list.

use serde::{Deserialize, Serialize};

/// A text message (`text`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Text {
    /// The text.
    pub content: String,
}

/// An image (`image`): a `media_id` from `media/upload`, or a `pic_url` from `media/uploadimg`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Image {
    /// Temporary media id (from `media/upload`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    /// Image URL (from `media/uploadimg`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pic_url: Option<String>,
}

/// A link card (`link`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Link {
    /// Title.
    pub title: String,
    /// Cover picture URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picurl: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    /// Target URL.
    pub url: String,
}

/// A mini-program card (`miniprogram`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MiniProgram {
    /// Title.
    pub title: String,
    /// Cover image media id.
    pub pic_media_id: String,
    /// Mini program appid.
    pub appid: String,
    /// Page path.
    pub page: String,
}

/// A video or a file (`video`, `file`): a media id from `media/upload`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Media {
    /// Temporary media id.
    pub media_id: String,
}

/// One entry of `attachments`: `msgtype` names which of the other fields is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attachment {
    /// `image`, `link`, `miniprogram`, `video` or `file`.
    pub msgtype: String,
    /// The image, when `msgtype` is `image`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// The link, when `msgtype` is `link`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<Link>,
    /// The mini program, when `msgtype` is `miniprogram`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgram>,
    /// The video, when `msgtype` is `video`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<Media>,
    /// The file, when `msgtype` is `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<Media>,
}

impl Attachment {
    /// An image attachment.
    pub fn image(image: Image) -> Self {
        Self { msgtype: "image".into(), image: Some(image), ..Self::default() }
    }
    /// A link attachment.
    pub fn link(link: Link) -> Self {
        Self { msgtype: "link".into(), link: Some(link), ..Self::default() }
    }
    /// A mini-program attachment.
    pub fn miniprogram(miniprogram: MiniProgram) -> Self {
        Self { msgtype: "miniprogram".into(), miniprogram: Some(miniprogram), ..Self::default() }
    }
    /// A video attachment.
    pub fn video(media_id: impl Into<String>) -> Self {
        Self { msgtype: "video".into(), video: Some(Media { media_id: media_id.into() }), ..Self::default() }
    }
    /// A file attachment.
    pub fn file(media_id: impl Into<String>) -> Self {
        Self { msgtype: "file".into(), file: Some(Media { media_id: media_id.into() }), ..Self::default() }
    }
}
