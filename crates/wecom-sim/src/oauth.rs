//! The OAuth authorize page (`open.weixin.qq.com/connect/oauth2/authorize` on WeCom): in the simulator, a
//! page listing the corp's active members; picking one (or passing `userid=` directly) redirects back to
//! `redirect_uri` with a fresh `code` for `auth/getuserinfo` and the caller's `state`, as WeCom does after
//! a member confirms sign-in.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::Simulator;

/// Members shown on the page.
const SHOWN: usize = 20;

/// `GET /connect/oauth2/authorize?redirect_uri=..&state=..[&userid=..]`.
pub async fn authorize(State(sim): State<Arc<Simulator>>, Query(query): Query<HashMap<String, String>>) -> Response {
    let redirect = query.get("redirect_uri").cloned().unwrap_or_default();
    if !(redirect.starts_with("http://") || redirect.starts_with("https://")) {
        return (StatusCode::BAD_REQUEST, "redirect_uri must be an http(s) URL").into_response();
    }
    let state = query.get("state").cloned().unwrap_or_default();
    if let Some(userid) = query.get("userid") {
        let code = sim.issue_oauth_code(userid);
        let separator = if redirect.contains('?') { '&' } else { '?' };
        let location = format!("{redirect}{separator}code={code}&state={}", encode(&state));
        return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
    }
    let members: Vec<(String, String)> = sim.with_world(|world| {
        world
            .staff
            .iter()
            .filter(|staff| staff.status == 1)
            .take(SHOWN)
            .map(|staff| (staff.userid.clone(), staff.name.clone()))
            .collect()
    });
    let links: String = members
        .iter()
        .map(|(userid, name)| {
            format!(
                "<li><a href=\"?redirect_uri={}&state={}&userid={}\">{} ({})</a></li>",
                encode(&redirect),
                encode(&state),
                encode(userid),
                escape(name),
                escape(userid)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><meta charset=\"utf-8\"><title>模拟企业微信登录</title>\
         <h1>模拟企业微信登录</h1><p>选择以哪位成员的身份登录：</p><ul>{links}</ul>"
    ))
    .into_response()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
