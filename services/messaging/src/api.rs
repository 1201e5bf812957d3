//! The tonic implementation of `scrm.messaging.v1.MessagingService`: the broadcast RPCs (PR06). RPCs not
//! written here answer through [`crate::PLANNED`].

use scrm_kernel::paging::{BeforeId, page_size};
use scrm_kernel::{ApiError, Caller, ErrorCode};
use scrm_proto::messaging::v1::messaging_service_server::MessagingService;
use scrm_proto::messaging::v1::{
    Broadcast, BroadcastAttachment, BroadcastGroupResult, BroadcastReport, BroadcastTargetFilter, BroadcastTargets,
    CancelBroadcastRequest, CancelBroadcastResponse, CreateBroadcastRequest, CreateBroadcastResponse,
    DeleteGroupRobotRequest, DeleteGroupRobotResponse, ErrcodeCount, ErrorLoss, GetBroadcastRequest,
    GetBroadcastResponse, ImageAttachment, LinkAttachment, ListBroadcastGroupResultsRequest,
    ListBroadcastGroupResultsResponse, ListBroadcastsRequest, ListBroadcastsResponse, ListGroupRobotsRequest,
    ListGroupRobotsResponse, MiniprogramAttachment, OwnerRemindResult, OwnerTaskPreview, PreviewBroadcastRequest,
    PreviewBroadcastResponse, PreviewTargetGroup, QuotaFlaggedGroup, QuotaLoss, RemindOwnersRequest,
    RemindOwnersResponse, RemindSkipReason, RescheduleBroadcastRequest, RescheduleBroadcastResponse,
    SendRobotMessageRequest, SendRobotMessageResponse, UnconfirmedLoss, UnconfirmedOwner, UpsertGroupRobotRequest,
    UpsertGroupRobotResponse, ValidationIssue, broadcast_attachment,
};
use tonic::{Request, Response, Status};

use crate::directory::Resolution;
use crate::domain::{
    self, Attachment, BroadcastState, Issue, MsgType, TargetFilter, Targets, TaskState, corp_day, day_string,
    next_remind_allowed, parse_remind_times, plan_tasks, validate_content, validate_schedule,
};
use crate::error::MessagingError;
use crate::robots::Robots;
use crate::store::{BroadcastFilter, BroadcastRow, GroupRow, NewBroadcast, TaskRow};
use crate::worker::Engine;

/// Groups listed in a preview.
const PREVIEW_GROUPS: usize = 200;
/// Longest idempotency key.
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The messaging service's gRPC handlers.
#[derive(Debug)]
pub struct MessagingApi {
    engine: Engine,
    robots: Robots,
}

impl MessagingApi {
    /// Handlers over `engine`.
    pub fn new(engine: Engine) -> Self {
        let robots = engine.robots();
        MessagingApi { engine, robots }
    }

    async fn row(&self, id: i64) -> Result<BroadcastRow, Status> {
        let row = self.engine.store.broadcast(id).await.map_err(MessagingError::from)?;
        Ok(row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no broadcast with id {id}")))?)
    }

    /// The broadcast with its report.
    async fn broadcast(&self, row: &BroadcastRow) -> Result<Broadcast, Status> {
        let store = &self.engine.store;
        let figures = store.group_figures(row.id).await.map_err(MessagingError::from)?;
        let counts = store.task_counts(row.id).await.map_err(MessagingError::from)?;
        let tasks = store.tasks_of(row.id).await.map_err(MessagingError::from)?;
        let report = domain::report(&figures);
        let now = self.engine.clock.now_ms();
        let owners = report
            .unconfirmed_owners
            .iter()
            .map(|owner| {
                let times: Vec<i64> = tasks
                    .iter()
                    .filter(|task| task.owner == owner.userid)
                    .flat_map(|task| parse_remind_times(&task.remind_times))
                    .collect();
                UnconfirmedOwner {
                    userid: owner.userid.clone(),
                    name: owner.name.clone(),
                    group_count: owner.group_count,
                    reminders_sent: i32::try_from(times.len()).unwrap_or(i32::MAX),
                    last_reminded_at: times.iter().copied().max().map(timestamp),
                    next_remind_allowed_at: next_remind_allowed(&times, now).map(timestamp),
                }
            })
            .collect();
        let targets: Targets = serde_json::from_str(&row.spec.targets_json).unwrap_or_default();
        let attachments: Vec<Attachment> = serde_json::from_str(&row.spec.attachments_json).unwrap_or_default();
        Ok(Broadcast {
            id: row.id,
            name: row.spec.name.clone(),
            state: row.state,
            targets: Some(proto_targets(&targets)),
            msg_type: row.spec.msg_type,
            content: row.spec.content.clone(),
            attachments: attachments.into_iter().map(proto_attachment).collect(),
            scheduled_at: Some(timestamp(row.spec.scheduled_at)),
            created_at: Some(timestamp(row.spec.created_at)),
            creator: row.spec.creator.clone(),
            starts_at: row.starts_at.map(timestamp),
            ends_at: row.ends_at.map(timestamp),
            report: Some(BroadcastReport {
                targeted_groups: report.targeted,
                delivered_groups: report.delivered,
                delivery_rate_bps: report.rate_bps,
                pending_groups: report.pending,
                unconfirmed: Some(UnconfirmedLoss { group_count: report.unconfirmed, owners }),
                quota: Some(QuotaLoss {
                    group_count: report.quota,
                    flagged_before_send: report.quota_flagged,
                    receive_quota_per_day: row.spec.quota_per_day,
                }),
                errors: Some(ErrorLoss {
                    group_count: report.errors,
                    by_errcode: report
                        .errors_by_code
                        .into_iter()
                        .map(|(errcode, errmsg, group_count)| ErrcodeCount { errcode, errmsg, group_count })
                        .collect(),
                }),
                not_friend_groups: report.not_friend,
                cancelled_groups: report.cancelled,
                dismissed_groups: report.dismissed,
                tasks_total: i32::try_from(counts.total).unwrap_or(i32::MAX),
                tasks_created: i32::try_from(counts.created).unwrap_or(i32::MAX),
                computed_at: Some(timestamp(now)),
            }),
            failure_reason: row.failure_reason.clone(),
            confirm_deadline: row.confirm_deadline.map(timestamp),
        })
    }

    /// Checks a would-be broadcast and resolves its targets; every problem is listed.
    async fn check(&self, caller: &Caller, draft: &Draft) -> Result<(Vec<Issue>, Resolution), Status> {
        let mut issues = Vec::new();
        let msg_type = MsgType::from_code(draft.msg_type);
        issues.extend(validate_content(msg_type, &draft.content, &draft.attachments));
        if let Err(issue) = validate_schedule(draft.scheduled_at, self.engine.clock.now_ms()) {
            issues.push(issue);
        }
        let targets = &draft.targets;
        let mut resolution = Resolution::default();
        if targets.is_explicit() && targets.filter.is_some() {
            issues.push(Issue { field: "targets".into(), message: "name groups or give a filter, not both".into() });
        } else if !targets.is_explicit() && targets.filter.is_none() {
            issues.push(Issue { field: "targets.group_ids".into(), message: "no target group".into() });
        } else {
            resolution = self.engine.directory.resolve(caller, targets).await?;
            for (index, id) in &resolution.unknown_group_ids {
                issues.push(Issue {
                    field: format!("targets.group_ids[{index}]"),
                    message: format!("group {id} does not exist"),
                });
            }
            for (index, chat_id) in &resolution.unknown_chat_ids {
                issues.push(Issue {
                    field: format!("targets.chat_ids[{index}]"),
                    message: format!("group {chat_id} does not exist"),
                });
            }
            if targets.filter.is_some() && resolution.groups.is_empty() {
                issues.push(Issue { field: "targets.filter".into(), message: "the filter matches no group".into() });
            }
        }
        Ok((issues, resolution))
    }
}

/// The content and targets shared by CreateBroadcast and PreviewBroadcast.
struct Draft {
    targets: Targets,
    msg_type: i32,
    content: String,
    attachments: Vec<Attachment>,
    scheduled_at: Option<i64>,
}

impl Draft {
    fn new(
        targets: Option<BroadcastTargets>,
        msg_type: i32,
        content: String,
        attachments: Vec<BroadcastAttachment>,
        scheduled_at: Option<prost_types::Timestamp>,
    ) -> Result<Draft, ApiError> {
        let attachments = attachments
            .into_iter()
            .enumerate()
            .map(|(index, attachment)| {
                domain_attachment(attachment)
                    .ok_or_else(|| ApiError::invalid(format!("attachments[{index}]"), "the attachment is empty"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Draft {
            targets: targets.map(domain_targets).unwrap_or_default(),
            msg_type,
            content,
            attachments,
            scheduled_at: scheduled_at.map(|time| time.seconds * 1000 + i64::from(time.nanos) / 1_000_000),
        })
    }
}

fn first_issue(issues: Vec<Issue>) -> Result<(), ApiError> {
    match issues.into_iter().next() {
        Some(issue) => Err(ApiError::invalid(issue.field, issue.message)),
        None => Ok(()),
    }
}

#[tonic::async_trait]
impl MessagingService for MessagingApi {
    async fn upsert_group_robot(
        &self,
        request: Request<UpsertGroupRobotRequest>,
    ) -> Result<Response<UpsertGroupRobotResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.robots.upsert(&caller, request.into_inner()).await?))
    }

    async fn list_group_robots(
        &self,
        request: Request<ListGroupRobotsRequest>,
    ) -> Result<Response<ListGroupRobotsResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.robots.list(&caller, request.into_inner()).await?))
    }

    async fn delete_group_robot(
        &self,
        request: Request<DeleteGroupRobotRequest>,
    ) -> Result<Response<DeleteGroupRobotResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.robots.delete(&caller, request.into_inner()).await?))
    }

    async fn send_robot_message(
        &self,
        request: Request<SendRobotMessageRequest>,
    ) -> Result<Response<SendRobotMessageResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        Ok(Response::new(self.robots.send(&caller, request.into_inner()).await?))
    }

    async fn create_broadcast(
        &self,
        request: Request<CreateBroadcastRequest>,
    ) -> Result<Response<CreateBroadcastResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let request = request.into_inner();
        let key = request.idempotency_key.trim().to_owned();
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(ApiError::invalid("idempotency_key", "idempotency_key is required (at most 255 bytes)").into());
        }
        let draft =
            Draft::new(request.targets, request.msg_type, request.content, request.attachments, request.scheduled_at)?;
        let (issues, _) = self.check(&caller, &draft).await?;
        first_issue(issues)?;
        let now = self.engine.clock.now_ms();
        let scheduled_at = validate_schedule(draft.scheduled_at, now)
            .map_err(|issue| ApiError::invalid(issue.field, issue.message))?;
        let name = if request.name.trim().is_empty() {
            draft.content.chars().take(20).collect::<String>()
        } else {
            request.name.trim().to_owned()
        };
        let new = NewBroadcast {
            idempotency_key: key,
            name,
            targets_json: serde_json::to_string(&draft.targets).unwrap_or_default(),
            msg_type: draft.msg_type,
            content: draft.content,
            attachments_json: serde_json::to_string(&draft.attachments).unwrap_or_default(),
            scheduled_at,
            created_at: now,
            creator: caller.staff_id.clone(),
            quota_per_day: i32::try_from(self.engine.config.receive_quota_per_day).unwrap_or(i32::MAX),
        };
        let (row, replayed) = self.engine.store.insert_broadcast(&new).await.map_err(MessagingError::from)?;
        if !replayed {
            tracing::info!(broadcast = row.id, scheduled_at, "broadcast created");
        }
        Ok(Response::new(CreateBroadcastResponse { broadcast: Some(self.broadcast(&row).await?) }))
    }

    async fn preview_broadcast(
        &self,
        request: Request<PreviewBroadcastRequest>,
    ) -> Result<Response<PreviewBroadcastResponse>, Status> {
        let caller = Caller::from_request(&request)?;
        let request = request.into_inner();
        let draft =
            Draft::new(request.targets, request.msg_type, request.content, request.attachments, request.scheduled_at)?;
        let (issues, resolution) = self.check(&caller, &draft).await?;
        let now = self.engine.clock.now_ms();
        let at = draft.scheduled_at.unwrap_or(now).max(now);
        let day = corp_day(at);
        let mut groups: Vec<_> = resolution
            .groups
            .into_iter()
            .filter(|resolved| !resolved.dismissed)
            .map(|resolved| resolved.group)
            .collect();
        groups.sort_by(|a, b| a.owner.cmp(&b.owner).then_with(|| a.name.cmp(&b.name)));
        let chat_ids: Vec<String> = groups.iter().map(|group| group.chat_id.clone()).collect();
        let usage = self.engine.store.quota_usage(&chat_ids, day).await.map_err(MessagingError::from)?;
        let quota = self.engine.config.receive_quota_per_day;
        let quota_flagged: Vec<QuotaFlaggedGroup> = groups
            .iter()
            .filter_map(|group| {
                let used = usage.get(&group.chat_id).copied().unwrap_or(0);
                (used >= i64::from(quota)).then(|| QuotaFlaggedGroup {
                    group_id: group.group_id,
                    chat_id: group.chat_id.clone(),
                    name: group.name.clone(),
                    owner: group.owner.clone(),
                    day: day_string(day),
                    already_scheduled: i32::try_from(used).unwrap_or(i32::MAX),
                    receive_quota_per_day: i32::try_from(quota).unwrap_or(i32::MAX),
                })
            })
            .collect();
        let sendable: Vec<_> = groups
            .iter()
            .filter(|group| !quota_flagged.iter().any(|flagged| flagged.chat_id == group.chat_id))
            .cloned()
            .collect();
        let tasks = plan_tasks(&sendable, self.engine.config.max_chats_per_task);
        let mut owners: Vec<OwnerTaskPreview> = Vec::new();
        for task in &tasks {
            let groups_in_task = i64::try_from(task.chat_ids.len()).unwrap_or(i64::MAX);
            match owners.iter_mut().find(|owner| owner.owner == task.owner) {
                Some(owner) => {
                    owner.group_count += groups_in_task;
                    owner.task_count += 1;
                }
                None => owners.push(OwnerTaskPreview {
                    owner: task.owner.clone(),
                    owner_name: task.owner_name.clone(),
                    group_count: groups_in_task,
                    task_count: 1,
                    owner_unavailable: false,
                }),
            }
        }
        owners.sort_by(|a, b| b.group_count.cmp(&a.group_count).then_with(|| a.owner.cmp(&b.owner)));
        let per_minute = u64::from(self.engine.config.rate_per_minute.max(1));
        let estimate_ms = (tasks.len() as u64).saturating_mul(60_000) / per_minute;
        Ok(Response::new(PreviewBroadcastResponse {
            target_group_count: i64::try_from(groups.len()).unwrap_or(i64::MAX),
            groups_truncated: groups.len() > PREVIEW_GROUPS,
            groups: groups
                .iter()
                .take(PREVIEW_GROUPS)
                .map(|group| PreviewTargetGroup {
                    group_id: group.group_id,
                    chat_id: group.chat_id.clone(),
                    name: group.name.clone(),
                    owner: group.owner.clone(),
                    member_count: group.member_count,
                })
                .collect(),
            owners,
            task_count: i32::try_from(tasks.len()).unwrap_or(i32::MAX),
            quota_flagged,
            estimated_fanout_duration: Some(prost_types::Duration {
                seconds: i64::try_from(estimate_ms / 1000).unwrap_or(i64::MAX),
                nanos: i32::try_from((estimate_ms % 1000) * 1_000_000).unwrap_or(0),
            }),
            issues: issues
                .into_iter()
                .map(|issue| ValidationIssue { field: issue.field, message: issue.message })
                .collect(),
        }))
    }

    async fn get_broadcast(
        &self,
        request: Request<GetBroadcastRequest>,
    ) -> Result<Response<GetBroadcastResponse>, Status> {
        Caller::from_request(&request)?;
        let row = self.row(request.into_inner().id).await?;
        Ok(Response::new(GetBroadcastResponse { broadcast: Some(self.broadcast(&row).await?) }))
    }

    async fn list_broadcasts(
        &self,
        request: Request<ListBroadcastsRequest>,
    ) -> Result<Response<ListBroadcastsResponse>, Status> {
        Caller::from_request(&request)?;
        let request = request.into_inner();
        let size = page_size(request.page_size)?;
        let before = BeforeId::parse(&request.page_token)?;
        let filter = BroadcastFilter {
            states: request.states,
            scheduled_after: request.scheduled_after.map(|time| time.seconds * 1000),
            scheduled_before: request.scheduled_before.map(|time| time.seconds * 1000),
            query: request.query.trim().to_owned(),
        };
        let rows = self
            .engine
            .store
            .list_broadcasts(&filter, before.map(|before| before.0), size)
            .await
            .map_err(MessagingError::from)?;
        let next_page_token = BeforeId::next_token(rows.last().map(|row| row.id), rows.len(), size);
        let mut broadcasts = Vec::with_capacity(rows.len());
        for row in &rows {
            broadcasts.push(self.broadcast(row).await?);
        }
        Ok(Response::new(ListBroadcastsResponse { broadcasts, next_page_token }))
    }

    async fn cancel_broadcast(
        &self,
        request: Request<CancelBroadcastRequest>,
    ) -> Result<Response<CancelBroadcastResponse>, Status> {
        let request = request.into_inner();
        let row = self.row(request.id).await?;
        let now = self.engine.clock.now_ms();
        let store = &self.engine.store;
        match BroadcastState::from_code(row.state) {
            Some(BroadcastState::Scheduled)
                if store.cancel_scheduled(row.id, now).await.map_err(MessagingError::from)? => {}
            Some(BroadcastState::Cancelled) => {}
            Some(BroadcastState::FanningOut | BroadcastState::AwaitingConfirmation)
                if request.stop_unconfirmed_tasks =>
            {
                let msgids = store.cancel_started(row.id, now).await.map_err(MessagingError::from)?;
                if let Some(wecom) = &self.engine.wecom {
                    for msgid in msgids {
                        if let Err(error) = wecom.cancel_groupmsg_send(&msgid).await {
                            tracing::warn!(%msgid, %error, "WeCom did not cancel a broadcast task");
                        }
                    }
                }
            }
            _ => {
                return Err(ApiError::new(
                    ErrorCode::FailedPrecondition,
                    "the broadcast has started or ended; set stop_unconfirmed_tasks to stop unconfirmed tasks",
                )
                .into());
            }
        }
        let row = self.row(row.id).await?;
        Ok(Response::new(CancelBroadcastResponse { broadcast: Some(self.broadcast(&row).await?) }))
    }

    async fn reschedule_broadcast(
        &self,
        request: Request<RescheduleBroadcastRequest>,
    ) -> Result<Response<RescheduleBroadcastResponse>, Status> {
        let request = request.into_inner();
        let row = self.row(request.id).await?;
        let Some(at) = request.scheduled_at else {
            return Err(ApiError::invalid("scheduled_at", "scheduled_at is required").into());
        };
        let now = self.engine.clock.now_ms();
        let at = validate_schedule(Some(at.seconds * 1000 + i64::from(at.nanos) / 1_000_000), now)
            .map_err(|issue| ApiError::invalid(issue.field, issue.message))?;
        if !self.engine.store.reschedule(row.id, at).await.map_err(MessagingError::from)? {
            return Err(
                ApiError::new(ErrorCode::FailedPrecondition, "the broadcast has already started or ended").into()
            );
        }
        let row = self.row(row.id).await?;
        Ok(Response::new(RescheduleBroadcastResponse { broadcast: Some(self.broadcast(&row).await?) }))
    }

    async fn list_broadcast_group_results(
        &self,
        request: Request<ListBroadcastGroupResultsRequest>,
    ) -> Result<Response<ListBroadcastGroupResultsResponse>, Status> {
        Caller::from_request(&request)?;
        let request = request.into_inner();
        let size = page_size(request.page_size)?;
        let offset = if request.page_token.is_empty() {
            0
        } else {
            request
                .page_token
                .strip_prefix("offset:")
                .and_then(|offset| offset.parse::<i64>().ok())
                .filter(|offset| *offset >= 0)
                .ok_or_else(|| ApiError::invalid("page_token", "page_token is not one this service issued"))?
        };
        let row = self.row(request.broadcast_id).await?;
        let tasks = self.engine.store.tasks_of(row.id).await.map_err(MessagingError::from)?;
        let rows = self
            .engine
            .store
            .group_results(row.id, &request.outcomes, &request.owner_userids, offset, size)
            .await
            .map_err(MessagingError::from)?;
        let next_page_token =
            if rows.len() == size as usize { format!("offset:{}", offset + i64::from(size)) } else { String::new() };
        let results = rows.into_iter().map(|row| group_result(row, &tasks)).collect();
        Ok(Response::new(ListBroadcastGroupResultsResponse { results, next_page_token }))
    }

    async fn remind_owners(
        &self,
        request: Request<RemindOwnersRequest>,
    ) -> Result<Response<RemindOwnersResponse>, Status> {
        let request = request.into_inner();
        let row = self.row(request.broadcast_id).await?;
        if !matches!(
            BroadcastState::from_code(row.state),
            Some(BroadcastState::FanningOut | BroadcastState::AwaitingConfirmation)
        ) {
            return Err(
                ApiError::new(ErrorCode::FailedPrecondition, "the broadcast is not awaiting confirmation").into()
            );
        }
        let Some(wecom) = &self.engine.wecom else {
            return Err(ApiError::new(ErrorCode::FailedPrecondition, "WeCom is not configured").into());
        };
        let tasks = self.engine.store.tasks_of(row.id).await.map_err(MessagingError::from)?;
        let mut owners: Vec<String> = if request.userids.is_empty() {
            tasks.iter().filter(|task| task.confirmed == 0).map(|task| task.owner.clone()).collect()
        } else {
            request.userids.clone()
        };
        owners.sort();
        owners.dedup();
        let now = self.engine.clock.now_ms();
        let mut results = Vec::with_capacity(owners.len());
        for owner in owners {
            let own: Vec<&TaskRow> = tasks.iter().filter(|task| task.owner == owner).collect();
            let created: Vec<&&TaskRow> = own.iter().filter(|task| task.state() == TaskState::Created).collect();
            let mut result = OwnerRemindResult { userid: owner.clone(), ..OwnerRemindResult::default() };
            let times: Vec<i64> = own.iter().flat_map(|task| parse_remind_times(&task.remind_times)).collect();
            if created.is_empty() {
                result.skip_reason = RemindSkipReason::NoTask as i32;
            } else if created.iter().all(|task| task.confirmed != 0) {
                result.skip_reason = RemindSkipReason::AlreadyConfirmed as i32;
            } else {
                let mut sent = 0;
                for task in created.iter().filter(|task| task.confirmed == 0) {
                    let task_times = parse_remind_times(&task.remind_times);
                    if let Some(next) = next_remind_allowed(&task_times, now) {
                        result.skip_reason = RemindSkipReason::LimitReached as i32;
                        result.next_remind_allowed_at = Some(timestamp(next));
                        continue;
                    }
                    match self.engine.remind(wecom, task, now).await? {
                        None => sent += 1,
                        Some(errcode) => {
                            result.skip_reason = RemindSkipReason::WecomError as i32;
                            result.errcode = i32::try_from(errcode).unwrap_or(-1);
                        }
                    }
                }
                if sent > 0 {
                    result =
                        OwnerRemindResult { userid: owner.clone(), reminded: true, ..OwnerRemindResult::default() };
                }
                result.reminders_sent = i32::try_from(times.len() + sent).unwrap_or(i32::MAX);
            }
            if result.reminders_sent == 0 {
                result.reminders_sent = i32::try_from(times.len()).unwrap_or(i32::MAX);
            }
            results.push(result);
        }
        Ok(Response::new(RemindOwnersResponse { results }))
    }
}

fn group_result(row: GroupRow, tasks: &[TaskRow]) -> BroadcastGroupResult {
    let task = row.task_id.and_then(|id| tasks.iter().find(|task| task.id == id));
    BroadcastGroupResult {
        group_id: row.group_id,
        chat_id: row.chat_id,
        group_name: row.group_name,
        owner: row.owner,
        owner_name: row.owner_name,
        outcome: row.outcome,
        status: row.status,
        msgid: task.map(|task| task.msgid.clone()).unwrap_or_default(),
        sent_at: row.sent_at.map(timestamp),
        errcode: if row.errcode != 0 { row.errcode } else { task.map_or(0, |task| task.errcode) },
        errmsg: if row.errmsg.is_empty() {
            task.map(|task| task.errmsg.clone()).unwrap_or_default()
        } else {
            row.errmsg
        },
        attempts: task.map_or(0, |task| task.attempts),
        updated_at: Some(timestamp(row.updated_at)),
    }
}

/// A Unix-millisecond time as a protobuf timestamp.
fn timestamp(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: i32::try_from(ms.rem_euclid(1000) * 1_000_000).unwrap_or(0),
    }
}

fn domain_targets(targets: BroadcastTargets) -> Targets {
    Targets {
        group_ids: targets.group_ids,
        chat_ids: targets.chat_ids,
        filter: targets.filter.map(|filter| TargetFilter {
            tag_ids: filter.tag_ids,
            match_all_tags: filter.match_all_tags,
            owner_userids: filter.owner_userids,
            store_ids: filter.store_ids,
            activity_bands: filter.activity_bands,
        }),
    }
}

fn proto_targets(targets: &Targets) -> BroadcastTargets {
    BroadcastTargets {
        group_ids: targets.group_ids.clone(),
        chat_ids: targets.chat_ids.clone(),
        filter: targets.filter.as_ref().map(|filter| BroadcastTargetFilter {
            tag_ids: filter.tag_ids.clone(),
            match_all_tags: filter.match_all_tags,
            owner_userids: filter.owner_userids.clone(),
            store_ids: filter.store_ids.clone(),
            activity_bands: filter.activity_bands.clone(),
        }),
    }
}

fn domain_attachment(attachment: BroadcastAttachment) -> Option<Attachment> {
    Some(match attachment.body? {
        broadcast_attachment::Body::Image(image) => {
            Attachment::Image { pic_url: image.pic_url, media_id: image.media_id }
        }
        broadcast_attachment::Body::Link(link) => {
            Attachment::Link { title: link.title, picurl: link.picurl, desc: link.desc, url: link.url }
        }
        broadcast_attachment::Body::Miniprogram(mini) => Attachment::Miniprogram {
            title: mini.title,
            pic_url: mini.pic_url,
            pic_media_id: mini.pic_media_id,
            appid: mini.appid,
            page: mini.page,
        },
    })
}

fn proto_attachment(attachment: Attachment) -> BroadcastAttachment {
    let body = match attachment {
        Attachment::Image { pic_url, media_id } => {
            broadcast_attachment::Body::Image(ImageAttachment { pic_url, media_id })
        }
        Attachment::Link { title, picurl, desc, url } => {
            broadcast_attachment::Body::Link(LinkAttachment { title, picurl, desc, url })
        }
        Attachment::Miniprogram { title, pic_url, pic_media_id, appid, page } => {
            broadcast_attachment::Body::Miniprogram(MiniprogramAttachment { title, pic_url, pic_media_id, appid, page })
        }
    };
    BroadcastAttachment { body: Some(body) }
}
