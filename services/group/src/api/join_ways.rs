//! Join ways (群活码, PR04): CreateJoinWay, GetJoinWay, ListJoinWays, UpdateJoinWay and DeleteJoinWay, each
//! mirrored in WeCom (`add_join_way`, `get_join_way`, `update_join_way`, `del_join_way`). Members joining through
//! a way carry its `state`.

use scrm_kernel::paging::{BeforeId, page_size};
use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::group::v1::{
    CreateJoinWayRequest, CreateJoinWayResponse, DeleteJoinWayRequest, DeleteJoinWayResponse, GetJoinWayRequest,
    GetJoinWayResponse, JoinWay, JoinWayScene, ListJoinWaysRequest, ListJoinWaysResponse, UpdateJoinWayRequest,
    UpdateJoinWayResponse, get_join_way_request,
};
use scrm_wecom::WeComClient;

use super::mask::Mask;
use super::{GroupApi, now_millis, timestamp};
use crate::error::GroupError;
use crate::store::join_ways::{JoinWayFilter, JoinWayKey, JoinWayRow};

/// Roles that manage join ways.
const JOIN_WAY_ROLES: [Role; 3] = [Role::Admin, Role::Operator, Role::StoreManager];
/// WeCom's longest remark and state, in characters.
const MAX_WECOM_TEXT: usize = 30;
/// WeCom's most groups per join way.
const MAX_CHATS: usize = 5;
/// WeCom's errcode for an unknown config_id.
const UNKNOWN_CONFIG: i64 = 41044;
/// The fields UpdateJoinWay may change.
const UPDATABLE: [&str; 9] = [
    "scene",
    "remark",
    "auto_create_room",
    "room_base_name",
    "room_base_id",
    "chat_id_list",
    "state",
    "mark_source",
    "campaign_id",
];

fn wecom_failed(api: &str, error: &scrm_wecom::WeComError) -> ApiError {
    ApiError::new(ErrorCode::FailedPrecondition, format!("WeCom refused {api}: {error}"))
}

impl GroupApi {
    fn wecom_client(&self) -> Result<&WeComClient, ApiError> {
        self.wecom.as_ref().ok_or_else(|| {
            ApiError::new(ErrorCode::FailedPrecondition, "WeCom is not configured (wecom.corp_id, wecom.secret)")
        })
    }

    /// Serves CreateJoinWay.
    pub(super) async fn create_join_way_for(
        &self,
        caller: &Caller,
        request: CreateJoinWayRequest,
    ) -> Result<CreateJoinWayResponse, GroupError> {
        caller.require_any(&JOIN_WAY_ROLES)?;
        let key = request.idempotency_key.trim().to_owned();
        if key.len() > 255 {
            return Err(ApiError::invalid("idempotency_key", "at most 255 bytes").into());
        }
        if !key.is_empty()
            && let Some(stored) = self.store.join_way_by(JoinWayKey::IdempotencyKey, &key).await?
        {
            return Ok(CreateJoinWayResponse { join_way: Some(join_way_proto(stored)) });
        }
        let mut row = join_way_row(&request, "")?;
        if row.state.is_empty() {
            row.state = format!("jw{}", now_millis());
        }
        if self.store.join_way_by(JoinWayKey::State, &row.state).await?.is_some() {
            return Err(
                ApiError::new(ErrorCode::AlreadyExists, format!("a join way with state {} exists", row.state)).into()
            );
        }
        let wecom = self.wecom_client()?;
        let wecom_way = wecom_join_way(&row);
        let added = wecom.add_join_way(&wecom_way).await.map_err(|error| wecom_failed("add_join_way", &error))?;
        row.config_id = added.config_id;
        row.qr_code = match wecom.get_join_way(&row.config_id).await {
            Ok(got) => got.join_way.qr_code,
            Err(error) => {
                tracing::warn!(%error, config_id = %row.config_id, "join way created without its QR code");
                String::new()
            }
        };
        let key = Some(key.as_str()).filter(|key| !key.is_empty());
        self.store.insert_join_way(&row, key, now_millis()).await?;
        let stored = self.store.join_way_by(JoinWayKey::State, &row.state).await?.unwrap_or(row);
        Ok(CreateJoinWayResponse { join_way: Some(join_way_proto(stored)) })
    }

    /// Serves GetJoinWay.
    pub(super) async fn get_join_way_for(&self, request: GetJoinWayRequest) -> Result<GetJoinWayResponse, GroupError> {
        let row = match request.key {
            Some(get_join_way_request::Key::Id(id)) => self.store.join_way(id).await?,
            Some(get_join_way_request::Key::ConfigId(config_id)) => {
                self.store.join_way_by(JoinWayKey::ConfigId, &config_id).await?
            }
            None => return Err(ApiError::invalid("key", "id or config_id is required").into()),
        };
        let row = row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "the join way does not exist"))?;
        Ok(GetJoinWayResponse { join_way: Some(join_way_proto(row)) })
    }

    /// Serves ListJoinWays: newest first.
    pub(super) async fn list_join_ways_for(
        &self,
        request: ListJoinWaysRequest,
    ) -> Result<ListJoinWaysResponse, GroupError> {
        let size = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?;
        let filter = JoinWayFilter { state: request.state, chat_id: request.chat_id, campaign_id: request.campaign_id };
        let rows = self.store.list_join_ways(&filter, before.map(|before| before.0), size).await?;
        let next_page_token = BeforeId::next_token(rows.last().map(|row| row.id), rows.len(), size);
        Ok(ListJoinWaysResponse { join_ways: rows.into_iter().map(join_way_proto).collect(), next_page_token })
    }

    /// Serves UpdateJoinWay: the merged configuration is checked as on create, sent whole to WeCom's
    /// `update_join_way` (WeCom overwrites), then stored. The QR code and config_id stay.
    pub(super) async fn update_join_way_for(
        &self,
        caller: &Caller,
        request: UpdateJoinWayRequest,
    ) -> Result<UpdateJoinWayResponse, GroupError> {
        caller.require_any(&JOIN_WAY_ROLES)?;
        let change = request.join_way.ok_or_else(|| ApiError::invalid("join_way", "join_way is required"))?;
        let mask = Mask::parse(request.update_mask, &UPDATABLE)?;
        let wants = |field: &str| mask.wants(field);
        let current = self
            .store
            .join_way(change.id)
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("join way {} does not exist", change.id)))?;
        let mut merged = join_way_proto(current.clone());
        if wants("scene") {
            merged.scene = change.scene;
        }
        if wants("remark") {
            merged.remark = change.remark;
        }
        if wants("auto_create_room") {
            merged.auto_create_room = change.auto_create_room;
        }
        if wants("room_base_name") {
            merged.room_base_name = change.room_base_name;
        }
        if wants("room_base_id") {
            merged.room_base_id = change.room_base_id;
        }
        if wants("chat_id_list") {
            merged.chat_id_list = change.chat_id_list;
        }
        if wants("state") && !change.state.is_empty() {
            merged.state = change.state;
        }
        if wants("mark_source") {
            merged.mark_source = change.mark_source;
        }
        if wants("campaign_id") {
            merged.campaign_id = change.campaign_id;
        }
        let checked = CreateJoinWayRequest {
            scene: merged.scene,
            remark: merged.remark,
            auto_create_room: merged.auto_create_room,
            room_base_name: merged.room_base_name,
            room_base_id: merged.room_base_id,
            chat_id_list: merged.chat_id_list,
            state: merged.state,
            mark_source: merged.mark_source,
            campaign_id: merged.campaign_id,
            idempotency_key: String::new(),
        };
        let mut row = join_way_row(&checked, "join_way.")?;
        row.id = current.id;
        row.config_id = current.config_id.clone();
        row.qr_code = current.qr_code.clone();
        if row.state != current.state
            && let Some(other) = self.store.join_way_by(JoinWayKey::State, &row.state).await?
            && other.id != current.id
        {
            return Err(
                ApiError::new(ErrorCode::AlreadyExists, format!("a join way with state {} exists", row.state)).into()
            );
        }
        let wecom_way = scrm_wecom::JoinWay { config_id: row.config_id.clone(), ..wecom_join_way(&row) };
        match self.wecom_client()?.update_join_way(&wecom_way).await {
            Ok(_) => {}
            Err(error) if error.errcode() == Some(UNKNOWN_CONFIG) => {
                return Err(ApiError::new(
                    ErrorCode::FailedPrecondition,
                    format!("join way {} no longer exists in WeCom; delete it and create a new one", current.id),
                )
                .into());
            }
            Err(error) => return Err(wecom_failed("update_join_way", &error).into()),
        }
        self.store.update_join_way(&row, now_millis()).await?;
        let stored = self.store.join_way(current.id).await?.unwrap_or(row);
        Ok(UpdateJoinWayResponse { join_way: Some(join_way_proto(stored)) })
    }

    /// Serves DeleteJoinWay: deleted in WeCom (already gone there is fine), then in scrm.
    pub(super) async fn delete_join_way_for(
        &self,
        caller: &Caller,
        request: DeleteJoinWayRequest,
    ) -> Result<DeleteJoinWayResponse, GroupError> {
        caller.require_any(&JOIN_WAY_ROLES)?;
        let row = self
            .store
            .join_way(request.id)
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("join way {} does not exist", request.id)))?;
        match self.wecom_client()?.del_join_way(&row.config_id).await {
            Ok(_) => {}
            Err(error) if error.errcode() == Some(UNKNOWN_CONFIG) => {}
            Err(error) => return Err(wecom_failed("del_join_way", &error).into()),
        }
        self.store.delete_join_way(row.id).await?;
        Ok(DeleteJoinWayResponse {})
    }
}

/// Checks a create request (or an update merged into one); the error names the bad field, after `prefix`.
fn join_way_row(request: &CreateJoinWayRequest, prefix: &str) -> Result<JoinWayRow, ApiError> {
    let invalid = |field: &str, message: &str| ApiError::invalid(format!("{prefix}{field}"), message);
    let scene = JoinWayScene::try_from(request.scene).unwrap_or_default();
    if scene == JoinWayScene::Unspecified {
        return Err(invalid("scene", "scene is required (MINIPROGRAM or QR_CODE)"));
    }
    let too_long = |text: &str| text.chars().count() > MAX_WECOM_TEXT;
    if too_long(&request.remark) {
        return Err(invalid("remark", "at most 30 characters"));
    }
    if too_long(&request.state) || request.state.contains(char::is_whitespace) {
        return Err(invalid("state", "at most 30 characters, without spaces"));
    }
    if request.chat_id_list.is_empty() || request.chat_id_list.len() > MAX_CHATS {
        return Err(invalid("chat_id_list", "1 to 5 groups are required"));
    }
    if let Some(index) = request.chat_id_list.iter().position(|chat_id| chat_id.is_empty() || chat_id.contains(',')) {
        return Err(invalid(&format!("chat_id_list[{index}]"), "not a chat_id"));
    }
    if request.auto_create_room && (request.room_base_name.trim().is_empty() || request.room_base_id <= 0) {
        return Err(invalid("room_base_name", "auto_create_room needs room_base_name and room_base_id"));
    }
    Ok(JoinWayRow {
        scene: scene as i32,
        remark: request.remark.clone(),
        auto_create_room: i32::from(request.auto_create_room),
        room_base_name: request.room_base_name.clone(),
        room_base_id: request.room_base_id,
        chat_ids: request.chat_id_list.join(","),
        state: request.state.clone(),
        mark_source: i32::from(request.mark_source),
        campaign_id: request.campaign_id,
        ..JoinWayRow::default()
    })
}

fn wecom_join_way(row: &JoinWayRow) -> scrm_wecom::JoinWay {
    let auto = row.auto_create_room == 1;
    scrm_wecom::JoinWay {
        scene: i64::from(row.scene),
        remark: row.remark.clone(),
        auto_create_room: Some(i64::from(row.auto_create_room)),
        room_base_name: if auto { row.room_base_name.clone() } else { String::new() },
        room_base_id: auto.then_some(i64::from(row.room_base_id)),
        chat_id_list: chat_ids(&row.chat_ids),
        state: row.state.clone(),
        mark_source: Some(row.mark_source == 1),
        ..scrm_wecom::JoinWay::default()
    }
}

fn chat_ids(joined: &str) -> Vec<String> {
    joined.split(',').filter(|chat_id| !chat_id.is_empty()).map(str::to_owned).collect()
}

fn join_way_proto(row: JoinWayRow) -> JoinWay {
    JoinWay {
        id: row.id,
        config_id: row.config_id,
        scene: row.scene,
        remark: row.remark,
        auto_create_room: row.auto_create_room == 1,
        room_base_name: row.room_base_name,
        room_base_id: row.room_base_id,
        chat_id_list: chat_ids(&row.chat_ids),
        state: row.state,
        mark_source: row.mark_source == 1,
        qr_code: row.qr_code,
        campaign_id: row.campaign_id,
        joined_count: row.joined_count,
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
    }
}
