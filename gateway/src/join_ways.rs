//! Join ways (群活码, PR04) on REST, camelCase JSON over GroupService's join-way RPCs:
//! `GET /api/social/join-ways` (query `state`, `chatId`, `campaignId`, `pageSize`, `pageToken`),
//! `POST /api/social/join-ways` (an `Idempotency-Key` header makes retries safe), `GET /api/social/join-ways/{id}`,
//! `PATCH /api/social/join-ways/{id}` (changes the fields its body carries, through WeCom's `update_join_way`) and
//! `DELETE /api/social/join-ways/{id}`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Extension, Json, Router};
use scrm_kernel::{ApiError, Caller, Clients};
use scrm_proto::group::v1::{
    CreateJoinWayRequest, DeleteJoinWayRequest, GetJoinWayRequest, JoinWay, JoinWayScene, ListJoinWaysRequest,
    UpdateJoinWayRequest, get_join_way_request,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::rest::RestError;

/// The `/social/join-ways` routes, nested under `/api`.
pub fn router() -> Router<Clients> {
    Router::new()
        .route("/social/join-ways", get(list).post(create))
        .route("/social/join-ways/{id}", get(fetch).patch(update).delete(remove))
}

/// A join way on REST.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct JoinWayBody {
    id: i64,
    config_id: String,
    /// `miniprogram` or `qr_code`.
    scene: &'static str,
    remark: String,
    auto_create_room: bool,
    room_base_name: String,
    room_base_id: i32,
    chat_id_list: Vec<String>,
    state: String,
    mark_source: bool,
    qr_code: String,
    campaign_id: i64,
    joined_count: i64,
    created_at: Option<String>,
}

/// The body of `POST /api/social/join-ways`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    /// `miniprogram` or `qr_code` (default).
    #[serde(default)]
    scene: String,
    #[serde(default)]
    remark: String,
    #[serde(default)]
    auto_create_room: bool,
    #[serde(default)]
    room_base_name: String,
    #[serde(default)]
    room_base_id: i32,
    #[serde(default)]
    chat_id_list: Vec<String>,
    #[serde(default)]
    state: String,
    #[serde(default)]
    mark_source: bool,
    #[serde(default)]
    campaign_id: i64,
}

/// The body of `PATCH /api/social/join-ways/{id}`: the fields to change, others left out.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PatchBody {
    /// `miniprogram` or `qr_code`.
    scene: Option<String>,
    remark: Option<String>,
    auto_create_room: Option<bool>,
    room_base_name: Option<String>,
    room_base_id: Option<i32>,
    chat_id_list: Option<Vec<String>>,
    state: Option<String>,
    mark_source: Option<bool>,
    campaign_id: Option<i64>,
}

impl PatchBody {
    /// The UpdateJoinWay request of way `id`, its mask naming the fields present.
    fn request(self, id: i64) -> Result<UpdateJoinWayRequest, ApiError> {
        let mut way = JoinWay { id, ..JoinWay::default() };
        let mut paths = Vec::new();
        if let Some(scene) = self.scene {
            way.scene = scene_of(&scene)? as i32;
            paths.push("scene");
        }
        if let Some(remark) = self.remark {
            way.remark = remark;
            paths.push("remark");
        }
        if let Some(auto_create_room) = self.auto_create_room {
            way.auto_create_room = auto_create_room;
            paths.push("auto_create_room");
        }
        if let Some(room_base_name) = self.room_base_name {
            way.room_base_name = room_base_name;
            paths.push("room_base_name");
        }
        if let Some(room_base_id) = self.room_base_id {
            way.room_base_id = room_base_id;
            paths.push("room_base_id");
        }
        if let Some(chat_id_list) = self.chat_id_list {
            way.chat_id_list = chat_id_list;
            paths.push("chat_id_list");
        }
        if let Some(state) = self.state {
            way.state = state;
            paths.push("state");
        }
        if let Some(mark_source) = self.mark_source {
            way.mark_source = mark_source;
            paths.push("mark_source");
        }
        if let Some(campaign_id) = self.campaign_id {
            way.campaign_id = campaign_id;
            paths.push("campaign_id");
        }
        if paths.is_empty() {
            return Err(ApiError::invalid("body", "the body names no field to change"));
        }
        let update_mask = prost_types::FieldMask { paths: paths.into_iter().map(str::to_owned).collect() };
        Ok(UpdateJoinWayRequest { join_way: Some(way), update_mask: Some(update_mask) })
    }
}

fn scene_of(scene: &str) -> Result<JoinWayScene, ApiError> {
    match scene {
        "" | "qr_code" => Ok(JoinWayScene::QrCode),
        "miniprogram" => Ok(JoinWayScene::Miniprogram),
        _ => Err(ApiError::invalid("scene", "scene must be qr_code or miniprogram")),
    }
}

async fn list(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, RestError> {
    let number = |name: &str| -> Result<i64, ApiError> {
        params.get(name).filter(|value| !value.is_empty()).map_or(Ok(0), |value| {
            value.parse().map_err(|_| ApiError::invalid(name, format!("{value} is not a number")))
        })
    };
    let request = ListJoinWaysRequest {
        page_size: i32::try_from(number("pageSize")?).map_err(|_| ApiError::invalid("pageSize", "too large"))?,
        page_token: params.get("pageToken").cloned().unwrap_or_default(),
        state: params.get("state").cloned().unwrap_or_default(),
        chat_id: params.get("chatId").cloned().unwrap_or_default(),
        campaign_id: number("campaignId")?,
    };
    let response = clients.group.clone().list_join_ways(caller.outgoing(request)?).await?.into_inner();
    let ways: Vec<JoinWayBody> = response.join_ways.into_iter().map(body).collect();
    Ok(Json(json!({ "joinWays": ways, "nextPageToken": response.next_page_token })))
}

async fn create(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    request: Result<Json<CreateBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<JoinWayBody>, RestError> {
    let Json(request) = request.map_err(|rejection| ApiError::invalid("body", rejection.body_text()))?;
    let scene = scene_of(&request.scene)?;
    let idempotency_key =
        headers.get("idempotency-key").and_then(|value| value.to_str().ok()).unwrap_or_default().trim().to_owned();
    let request = CreateJoinWayRequest {
        scene: scene as i32,
        remark: request.remark,
        auto_create_room: request.auto_create_room,
        room_base_name: request.room_base_name,
        room_base_id: request.room_base_id,
        chat_id_list: request.chat_id_list,
        state: request.state,
        mark_source: request.mark_source,
        campaign_id: request.campaign_id,
        idempotency_key,
    };
    let response = clients.group.clone().create_join_way(caller.outgoing(request)?).await?.into_inner();
    Ok(Json(body(response.join_way.unwrap_or_default())))
}

fn id_of(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::invalid("id", format!("{id} is not a join way id")))
}

async fn fetch(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<JoinWayBody>, RestError> {
    let request = GetJoinWayRequest { key: Some(get_join_way_request::Key::Id(id_of(&id)?)) };
    let response = clients.group.clone().get_join_way(caller.outgoing(request)?).await?.into_inner();
    Ok(Json(body(response.join_way.unwrap_or_default())))
}

async fn update(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Result<Json<PatchBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<JoinWayBody>, RestError> {
    let Json(patch) = request.map_err(|rejection| ApiError::invalid("body", rejection.body_text()))?;
    let request = patch.request(id_of(&id)?)?;
    let response = clients.group.clone().update_join_way(caller.outgoing(request)?).await?.into_inner();
    Ok(Json(body(response.join_way.unwrap_or_default())))
}

async fn remove(
    State(clients): State<Clients>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, RestError> {
    let request = DeleteJoinWayRequest { id: id_of(&id)? };
    clients.group.clone().delete_join_way(caller.outgoing(request)?).await?;
    Ok(Json(json!({})))
}

fn body(way: JoinWay) -> JoinWayBody {
    let scene = match way.scene() {
        JoinWayScene::Miniprogram => "miniprogram",
        _ => "qr_code",
    };
    JoinWayBody {
        id: way.id,
        config_id: way.config_id,
        scene,
        remark: way.remark,
        auto_create_room: way.auto_create_room,
        room_base_name: way.room_base_name,
        room_base_id: way.room_base_id,
        chat_id_list: way.chat_id_list,
        state: way.state,
        mark_source: way.mark_source,
        qr_code: way.qr_code,
        campaign_id: way.campaign_id,
        joined_count: way.joined_count,
        created_at: way.created_at.map(|time| time.to_string()),
    }
}
