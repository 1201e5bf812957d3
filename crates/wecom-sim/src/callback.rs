//! Encrypted callback push with WeCom's retry behaviour.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use scrm_wecom_crypto::CallbackCrypto;

use crate::config::CallbackConfig;
use crate::sim::{PendingEvent, Simulator};

/// Starts pushing queued callback events to the configured URL, if any. Each event is encrypted and signed
/// with [`CallbackCrypto`] and POSTed as `url?msg_signature=&timestamp=&nonce=`; an attempt not answered with
/// HTTP 200 within the timeout is retried, up to `retries` times. Events are pushed concurrently, as WeCom
/// does, so order is not guaranteed. Each attempt uses the callback configuration current at the time (URL,
/// Token, EncodingAESKey), as WeCom uses what its console holds, so [`Simulator::set_callback`] stands for an
/// admin pasting new keys. Returns `None` without a callback configuration or with a bad key.
pub fn spawn_callback_pusher(sim: Arc<Simulator>) -> Option<tokio::task::JoinHandle<()>> {
    let (cfg, corp_id) = {
        let c = sim.config();
        (c.callback?, c.corp_id)
    };
    if let Err(e) = CallbackCrypto::new(cfg.token.clone(), &cfg.encoding_aes_key, corp_id) {
        tracing::error!(error = %e, "wecom-sim: bad callback EncodingAESKey, callbacks disabled");
        return None;
    }
    let http = reqwest::Client::builder().timeout(Duration::from_millis(cfg.timeout_ms.max(1))).build().ok()?;
    Some(tokio::spawn(async move {
        loop {
            let events = sim.drain_events();
            for ev in events {
                tokio::spawn(deliver((sim.clone(), http.clone()), ev));
            }
            // Woken by new events; the timeout is a safety net.
            let _ = tokio::time::timeout(Duration::from_secs(1), sim.events_notify.notified()).await;
        }
    }))
}

type Ctx = (Arc<Simulator>, reqwest::Client);

/// The callback configuration in force now, with its crypto; `None` when callbacks are off or the keys are bad.
fn current(sim: &Simulator) -> Option<(CallbackConfig, CallbackCrypto, String, String)> {
    let c = sim.config();
    let cfg = c.callback?;
    match CallbackCrypto::new(cfg.token.clone(), &cfg.encoding_aes_key, c.corp_id.clone()) {
        Ok(crypto) => Some((cfg, crypto, c.corp_id, c.agent_id.to_string())),
        Err(e) => {
            tracing::error!(error = %e, "wecom-sim: bad callback EncodingAESKey, callback dropped");
            None
        }
    }
}

async fn deliver((sim, http): Ctx, ev: PendingEvent) {
    let mut attempt = 0;
    while let Some((cfg, crypto, corp_id, agent)) = current(&sim) {
        if attempt > cfg.retries {
            break;
        }
        attempt += 1;
        let timestamp = sim.clock.now_secs().to_string();
        let nonce = rand::rng().random_range(100_000_000u64..999_999_999).to_string();
        let sealed = match crypto.seal_post(&ev.xml, &timestamp, &nonce, Some(&corp_id), Some(&agent)) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "wecom-sim: cannot seal callback");
                return;
            }
        };
        sim.state.lock().stats.callback_attempts += 1;
        let sep = if cfg.url.contains('?') { '&' } else { '?' };
        let url = format!(
            "{}{sep}msg_signature={}&timestamp={}&nonce={}",
            cfg.url, sealed.msg_signature, sealed.timestamp, sealed.nonce
        );
        match http.post(&url).header("content-type", "text/xml").body(sealed.body).send().await {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => tracing::debug!(status = %r.status(), attempt, "wecom-sim: callback not accepted"),
            Err(e) => tracing::debug!(error = %e, attempt, "wecom-sim: callback unanswered"),
        }
    }
    sim.state.lock().stats.callback_failures += 1;
}
