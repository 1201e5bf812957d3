//! JS-SDK signing for the sidebar H5: `wx.config` from the corp's `jsapi_ticket` and `wx.agentConfig` from
//! the app's `agent_config` ticket, as WeCom documents it ("JS-SDK使用权限签名算法",
//! <https://developer.work.weixin.qq.com/document/path/90506>): SHA1 over
//! `jsapi_ticket=..&noncestr=..&timestamp=..&url=..`, raw values, in that order.
//!
//! WeCom limits how often tickets may be fetched, so each ticket is cached until shortly before it expires.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use scrm_kernel::{ApiError, ErrorCode};
use scrm_proto::identity::v1::{GetJsSdkSignaturesResponse, JsSdkSignature};
use scrm_wecom::{JsapiTicket, WeComClient, WeComError};
use sha1::{Digest, Sha1};
use tokio::sync::Mutex;

/// Longest page URL accepted for signing.
const MAX_URL_CHARS: usize = 2048;
/// A ticket is fetched again this many seconds before it expires (at most half its lifetime).
const REFRESH_MARGIN_SECS: i64 = 300;

/// Where the JS-SDK settings of the app come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsSdkSettings {
    /// The self-built app's `agentid`, for `wx.agentConfig`.
    pub agent_id: i64,
    /// The app's trusted domain (可信域名), e.g. `scrm.example.com`; pages elsewhere are not signed. Empty:
    /// any host (demo and development).
    pub trusted_domain: String,
}

/// A clock giving Unix seconds; injectable for tests.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The signature inputs of WeCom's documented algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInput<'a> {
    /// The ticket.
    pub ticket: &'a str,
    /// `noncestr`.
    pub nonce_str: &'a str,
    /// `timestamp`, Unix seconds.
    pub timestamp: i64,
    /// Page URL without the fragment.
    pub url: &'a str,
}

/// SHA1 hex of `jsapi_ticket=T&noncestr=N&timestamp=S&url=U`.
pub fn sign(input: &SignatureInput<'_>) -> String {
    let text = format!(
        "jsapi_ticket={}&noncestr={}&timestamp={}&url={}",
        input.ticket, input.nonce_str, input.timestamp, input.url
    );
    Sha1::digest(text.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Checks the page URL: http(s), no fragment, under the trusted domain when one is set.
pub fn check_url(url: &str, trusted_domain: &str) -> Result<(), ApiError> {
    let invalid = |message: &str| ApiError::invalid("url", message);
    if url.chars().count() > MAX_URL_CHARS {
        return Err(invalid("url is too long"));
    }
    if url.contains('#') {
        return Err(invalid("url must not contain the # fragment"));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid("url must be the page's full http(s) URL"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = host.split(':').next().unwrap_or_default().to_ascii_lowercase();
    if host.is_empty() || url.chars().any(char::is_whitespace) {
        return Err(invalid("url must be the page's full http(s) URL"));
    }
    let domain = trusted_domain.trim().to_ascii_lowercase();
    if !domain.is_empty() && host != domain && !host.ends_with(&format!(".{domain}")) {
        return Err(invalid("url is not under the app's trusted domain"));
    }
    Ok(())
}

#[derive(Debug, Clone)]
struct CachedTicket {
    ticket: String,
    refresh_at: i64,
}

/// Which ticket.
#[derive(Debug, Clone, Copy)]
enum TicketKind {
    Corp,
    Agent,
}

/// Signs JS-SDK configurations with cached tickets.
pub struct JsSdk {
    wecom: Option<WeComClient>,
    settings: JsSdkSettings,
    clock: Clock,
    corp: Mutex<Option<CachedTicket>>,
    agent: Mutex<Option<CachedTicket>>,
}

impl fmt::Debug for JsSdk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsSdk").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl JsSdk {
    /// Signing with tickets from `wecom` (`None`: no corp configured, every call FAILED_PRECONDITION), on the
    /// system clock.
    pub fn new(wecom: Option<WeComClient>, settings: JsSdkSettings) -> Self {
        let clock: Clock =
            Arc::new(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs() as i64));
        JsSdk::with_clock(wecom, settings, clock)
    }

    /// Signing on an injected clock.
    pub fn with_clock(wecom: Option<WeComClient>, settings: JsSdkSettings, clock: Clock) -> Self {
        JsSdk { wecom, settings, clock, corp: Mutex::new(None), agent: Mutex::new(None) }
    }

    /// Both signatures for the page at `url`.
    pub async fn signatures(&self, url: &str) -> Result<GetJsSdkSignaturesResponse, ApiError> {
        check_url(url, &self.settings.trusted_domain)?;
        let wecom = self.wecom.as_ref().ok_or_else(|| {
            ApiError::new(ErrorCode::FailedPrecondition, "no WeCom corp is configured, so the JS-SDK cannot be signed")
        })?;
        let corp_ticket = self.ticket(wecom, TicketKind::Corp).await?;
        let agent_ticket = self.ticket(wecom, TicketKind::Agent).await?;
        let timestamp = (self.clock)();
        let signature = |ticket: &str| {
            let nonce_str = uuid::Uuid::new_v4().simple().to_string();
            let signature = sign(&SignatureInput { ticket, nonce_str: &nonce_str, timestamp, url });
            JsSdkSignature { timestamp, nonce_str, signature }
        };
        Ok(GetJsSdkSignaturesResponse {
            corpid: wecom.config().corp_id.clone(),
            agentid: self.settings.agent_id,
            config: Some(signature(&corp_ticket)),
            agent_config: Some(signature(&agent_ticket)),
        })
    }

    async fn ticket(&self, wecom: &WeComClient, kind: TicketKind) -> Result<String, ApiError> {
        let slot = match kind {
            TicketKind::Corp => &self.corp,
            TicketKind::Agent => &self.agent,
        };
        let mut cached = slot.lock().await;
        let now = (self.clock)();
        if let Some(ticket) = cached.as_ref().filter(|ticket| now < ticket.refresh_at) {
            return Ok(ticket.ticket.clone());
        }
        let fetched = match kind {
            TicketKind::Corp => wecom.get_jsapi_ticket().await,
            TicketKind::Agent => wecom.get_agent_config_ticket().await,
        }
        .map_err(|error| ticket_error(kind, &error))?;
        let JsapiTicket { ticket, expires_in } = fetched;
        if ticket.is_empty() {
            return Err(ApiError::new(ErrorCode::Unavailable, "WeCom returned an empty JS-SDK ticket"));
        }
        let margin = REFRESH_MARGIN_SECS.min(expires_in / 2);
        *cached = Some(CachedTicket { ticket: ticket.clone(), refresh_at: now + expires_in - margin });
        Ok(ticket)
    }
}

fn ticket_error(kind: TicketKind, error: &WeComError) -> ApiError {
    tracing::warn!(?kind, %error, "fetching a JS-SDK ticket failed");
    ApiError::new(ErrorCode::Unavailable, format!("WeCom did not give a JS-SDK ticket: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_wecoms_documented_example() {
        let input = SignatureInput {
            ticket: "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
            nonce_str: "Wm3WZYTPz0wzccnW",
            timestamp: 1_414_587_457,
            url: "http://mp.weixin.qq.com?params=value",
        };
        assert_eq!(sign(&input), "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
    }

    #[test]
    fn page_urls_are_checked() {
        assert!(check_url("https://scrm.example.com/sidebar/?a=1", "scrm.example.com").is_ok());
        assert!(check_url("https://h5.scrm.example.com/sidebar/", "scrm.example.com").is_ok());
        assert!(check_url("http://127.0.0.1:8080/sidebar/", "").is_ok());
        for bad in ["https://evil.com/sidebar/", "https://scrm.example.com.evil.com/", "https://evilscrm.example.com/"]
        {
            assert_eq!(check_url(bad, "scrm.example.com").unwrap_err().field.as_deref(), Some("url"), "{bad}");
        }
        for bad in ["", "ftp://x/", "https://x/#/home", "https:///path", "https://a b/"] {
            assert!(check_url(bad, "").is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn without_a_corp_signing_is_a_failed_precondition() {
        let jssdk = JsSdk::new(None, JsSdkSettings::default());
        let error = jssdk.signatures("https://scrm.example.com/sidebar/").await.unwrap_err();
        assert_eq!(error.code, ErrorCode::FailedPrecondition);
    }
}
