//! Media first: a broadcast's image (or mini-program cover) given by URL is fetched and uploaded to WeCom as
//! temporary media (`media/upload`) before its tasks are created, since `add_msg_template` takes media ids.

use scrm_wecom::{MediaType, Upload, WeComClient, WeComError};

/// scrm's errcode when an attachment's image cannot be fetched from its URL.
pub const ERRCODE_MEDIA_FETCH: i32 = -1005;
/// WeCom's size limit of an image (`media/upload?type=image`): 10 MB.
const MAX_IMAGE_BYTES: usize = 10 << 20;

/// Why a broadcast's media could not be uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFailure {
    /// Whether trying again later may succeed.
    pub transient: bool,
    /// WeCom's errcode, or [`ERRCODE_MEDIA_FETCH`].
    pub errcode: i32,
    /// What went wrong.
    pub errmsg: String,
}

impl MediaFailure {
    fn fetch(transient: bool, errmsg: String) -> Self {
        MediaFailure { transient, errcode: ERRCODE_MEDIA_FETCH, errmsg }
    }

    fn wecom(error: &WeComError) -> Self {
        MediaFailure {
            transient: crate::worker::is_transient_failure(error),
            errcode: crate::worker::errcode_of(error),
            errmsg: error.to_string(),
        }
    }
}

/// Fetches the image at `url` and uploads it; returns its WeCom media id (valid 3 days).
pub async fn upload_image(http: &reqwest::Client, wecom: &WeComClient, url: &str) -> Result<String, MediaFailure> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|error| MediaFailure::fetch(true, format!("cannot fetch {url}: {error}")))?;
    let status = response.status();
    if !status.is_success() {
        let transient = status.is_server_error() || status.as_u16() == 429;
        return Err(MediaFailure::fetch(transient, format!("fetching {url} answered HTTP {status}")));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let data =
        response.bytes().await.map_err(|error| MediaFailure::fetch(true, format!("cannot read {url}: {error}")))?;
    if data.len() > MAX_IMAGE_BYTES {
        return Err(MediaFailure::fetch(false, format!("the image at {url} is larger than WeCom's 10 MB")));
    }
    let upload = Upload { content_type: None, ..Upload::new(file_name(url, &content_type), data) };
    let uploaded = wecom.media_upload(MediaType::Image, &upload).await.map_err(|error| MediaFailure::wecom(&error))?;
    Ok(uploaded.media_id)
}

/// The file name to upload under: the URL's last path segment when it names a JPG/PNG file, else one named
/// after the content type (WeCom takes JPG and PNG images).
fn file_name(url: &str, content_type: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let last = path.rsplit('/').next().unwrap_or_default();
    let lower = last.to_ascii_lowercase();
    if [".jpg", ".jpeg", ".png"].iter().any(|extension| lower.ends_with(extension)) {
        return last.to_owned();
    }
    if content_type.starts_with("image/png") { "image.png".to_owned() } else { "image.jpg".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_image_names_and_otherwise_follow_the_content_type() {
        assert_eq!(file_name("https://cdn.example.com/a/banner.PNG?v=2", ""), "banner.PNG");
        assert_eq!(file_name("https://cdn.example.com/render?id=7", "image/png"), "image.png");
        assert_eq!(file_name("https://cdn.example.com/cover", "image/jpeg"), "image.jpg");
    }
}
