//! Typed WeCom callback events, parsed from the decrypted XML with WeCom's own field names.
//!
//! Two shapes of the same events are accepted:
//! - a corp's own app (自建应用 / 代开发): `ToUserName` (corp id), `FromUserName` (`sys`), `CreateTime`,
//!   `MsgType` = `event`, `Event`;
//! - a third-party suite's instruction callback: `SuiteId`, `AuthCorpId`, `InfoType`, `TimeStamp` (the
//!   shape of the examples transcribed from WeCom's docs in `wenerme/go-wecom`'s `testdata/push/`).
//!
//! [`EventHeader`] normalises both: `to_user_name` is `ToUserName` or else `AuthCorpId`, `create_time` is
//! `CreateTime` or else `TimeStamp`, `event` is `Event` or else `InfoType`.
//!
//! Parsed: `change_external_contact`, `change_external_chat`, `change_external_tag`, `change_contact`.
//! Any other event, or an unknown `ChangeType` of these, becomes [`CallbackEvent::Unknown`] instead of an
//! error; a plain message (no `Event`) becomes `Unknown` with its `MsgType` as the event name.
//!
//! # Dedup key
//!
//! [`CallbackEvent::dedup_key`] is `"wc1:"` followed by the SHA1 hex of a length-prefixed canonical list of
//! the event's fields: the header (corp, suite id, create time, event, change type) and then every typed
//! field of the event (ids, state, welcome code, update detail, member list, versions, …; for `Unknown`,
//! every leaf element of the XML in document order). WeCom's retries of a callback carry the same decrypted
//! XML, so they get the same key; two distinct events differ in at least one field, so they never share one
//! (ids alone would not do: two `update` events of the same group in the same second differ only in their
//! detail and member versions). The key is a fixed 44 ASCII characters, fit for a unique index.

use sha1::{Digest, Sha1};

use crate::error::{Error, Result, clip};
use crate::xml::{self, Element};

/// What every event carries, normalised over the corp-app and third-party shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHeader {
    /// `ToUserName` (the corp id), or `AuthCorpId` in the third-party shape.
    pub to_user_name: String,
    /// `FromUserName`: `sys` for system events; absent in the third-party shape.
    pub from_user_name: Option<String>,
    /// `CreateTime` (or `TimeStamp`), Unix seconds.
    pub create_time: i64,
    /// `MsgType`: `event`; absent in the third-party shape.
    pub msg_type: Option<String>,
    /// `Event` (or `InfoType`), e.g. `change_external_contact`.
    pub event: String,
    /// `SuiteId`, in the third-party shape.
    pub suite_id: Option<String>,
    /// `AgentID`, when present.
    pub agent_id: Option<String>,
}

/// A parsed callback event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackEvent {
    /// `change_external_contact`: a customer (external contact) was added, edited, deleted, …
    ExternalContact(ExternalContactEvent),
    /// `change_external_chat`: a customer group was created, changed or dismissed.
    ExternalChat(ExternalChatEvent),
    /// `change_external_tag`: a corp customer tag or tag group changed.
    ExternalTag(ExternalTagEvent),
    /// `change_contact`: a staff member, department or staff tag changed.
    Contact(ContactEvent),
    /// Any other event, or a known event with a change type this crate does not know.
    Unknown {
        /// `Event` / `InfoType` (or `MsgType` for a plain message).
        event: String,
        /// `ChangeType`, when present.
        change_type: Option<String>,
        /// The decrypted XML as received.
        raw: String,
    },
}

/// `ChangeType` of `change_external_contact`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExternalContactChange {
    /// `add_external_contact`: a staff member added a customer.
    AddExternalContact,
    /// `edit_external_contact`: a staff member edited a customer's remark, tags, …
    EditExternalContact,
    /// `add_half_external_contact`: a customer added a staff member, who has not accepted yet.
    AddHalfExternalContact,
    /// `del_external_contact`: a staff member deleted a customer.
    DelExternalContact,
    /// `del_follow_user`: a customer deleted a staff member (churn, 流失).
    DelFollowUser,
    /// `transfer_fail`: a customer transfer (离职/在职继承) failed.
    TransferFail,
}

impl ExternalContactChange {
    /// WeCom's `ChangeType` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AddExternalContact => "add_external_contact",
            Self::EditExternalContact => "edit_external_contact",
            Self::AddHalfExternalContact => "add_half_external_contact",
            Self::DelExternalContact => "del_external_contact",
            Self::DelFollowUser => "del_follow_user",
            Self::TransferFail => "transfer_fail",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "add_external_contact" => Self::AddExternalContact,
            "edit_external_contact" => Self::EditExternalContact,
            "add_half_external_contact" => Self::AddHalfExternalContact,
            "del_external_contact" => Self::DelExternalContact,
            "del_follow_user" => Self::DelFollowUser,
            "transfer_fail" => Self::TransferFail,
            _ => return None,
        })
    }
}

/// A `change_external_contact` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalContactEvent {
    /// The common fields.
    pub header: EventHeader,
    /// `ChangeType`.
    pub change_type: ExternalContactChange,
    /// `UserID`: the staff member.
    pub user_id: String,
    /// `ExternalUserID`: the customer.
    pub external_user_id: String,
    /// `State`: the `state` of the contact way (渠道活码) the customer came through, when any.
    pub state: Option<String>,
    /// `WelcomeCode`: lets the app send a welcome message within 20 seconds (add events only).
    pub welcome_code: Option<String>,
    /// `Source`: on `del_external_contact`, `DELETE_BY_TRANSFER` when removed by a transfer.
    pub source: Option<String>,
    /// `FailReason`: on `transfer_fail`, `customer_refused` or `customer_limit_exceed`.
    pub fail_reason: Option<String>,
}

/// `ChangeType` of `change_external_chat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalChatChange {
    /// `create`: a group was created.
    Create,
    /// `update`: the group changed; see [`ChatUpdate`].
    Update(ChatUpdate),
    /// `dismiss`: the group was dismissed.
    Dismiss,
}

impl ExternalChatChange {
    /// WeCom's `ChangeType` string.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update(_) => "update",
            Self::Dismiss => "dismiss",
        }
    }
}

/// `UpdateDetail` of a `change_external_chat` `update`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UpdateDetail {
    /// `add_member`: members joined.
    AddMember,
    /// `del_member`: members left or were removed.
    DelMember,
    /// `change_owner`: the owner changed.
    ChangeOwner,
    /// `change_name`: the name changed.
    ChangeName,
    /// `change_notice`: the notice changed.
    ChangeNotice,
    /// A detail this crate does not know, kept verbatim.
    Other(String),
}

impl UpdateDetail {
    /// WeCom's `UpdateDetail` string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AddMember => "add_member",
            Self::DelMember => "del_member",
            Self::ChangeOwner => "change_owner",
            Self::ChangeName => "change_name",
            Self::ChangeNotice => "change_notice",
            Self::Other(s) => s,
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "add_member" => Self::AddMember,
            "del_member" => Self::DelMember,
            "change_owner" => Self::ChangeOwner,
            "change_name" => Self::ChangeName,
            "change_notice" => Self::ChangeNotice,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// The fields of a `change_external_chat` `update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatUpdate {
    /// `UpdateDetail`.
    pub update_detail: UpdateDetail,
    /// `JoinScene` (on `add_member`): 0 invited by a member, 1 invited by link, 3 by QR code (群活码).
    pub join_scene: Option<u32>,
    /// `QuitScene` (on `del_member`): 0 left by themselves, 1 removed by the owner or an admin.
    pub quit_scene: Option<u32>,
    /// `MemChangeCnt`: how many members joined or left.
    pub mem_change_cnt: Option<u32>,
    /// `MemChangeList`: the user ids that joined or left (`<Item>`s, or a comma-separated text).
    pub mem_change_list: Vec<String>,
    /// `LastMemVer`: the member version before the change.
    pub last_mem_ver: Option<String>,
    /// `CurMemVer`: the member version after the change.
    pub cur_mem_ver: Option<String>,
}

/// A `change_external_chat` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalChatEvent {
    /// The common fields.
    pub header: EventHeader,
    /// `ChatId`: the group.
    pub chat_id: String,
    /// `ChangeType` and, for `update`, its details.
    pub change: ExternalChatChange,
}

/// `ChangeType` of `change_external_tag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExternalTagChange {
    /// `create`.
    Create,
    /// `update`.
    Update,
    /// `delete`.
    Delete,
    /// `shuffle`: tags were reordered.
    Shuffle,
}

impl ExternalTagChange {
    /// WeCom's `ChangeType` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Shuffle => "shuffle",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "create" => Self::Create,
            "update" => Self::Update,
            "delete" => Self::Delete,
            "shuffle" => Self::Shuffle,
            _ => return None,
        })
    }
}

/// `TagType` of `change_external_tag`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TagType {
    /// `tag`: the `Id` is a tag.
    Tag,
    /// `tag_group`: the `Id` is a tag group.
    TagGroup,
    /// A type this crate does not know, kept verbatim.
    Other(String),
}

impl TagType {
    /// WeCom's `TagType` string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Tag => "tag",
            Self::TagGroup => "tag_group",
            Self::Other(s) => s,
        }
    }
}

/// A `change_external_tag` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalTagEvent {
    /// The common fields.
    pub header: EventHeader,
    /// `ChangeType`.
    pub change_type: ExternalTagChange,
    /// `Id`: the tag or tag group (on `shuffle`: the group whose tags were reordered; empty for all).
    pub id: String,
    /// `TagType`: absent on `shuffle`.
    pub tag_type: Option<TagType>,
    /// `StrategyId`: the rule group (规则组) of the tag, when it belongs to one.
    pub strategy_id: Option<i64>,
}

/// One `ExtAttr/Item` of a staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtAttr {
    /// `Name`.
    pub name: String,
    /// `Type`: 0 text, 1 web page.
    pub attr_type: Option<u32>,
    /// `Value` or `Text/Value`: the text value.
    pub value: Option<String>,
    /// `Web/Title`.
    pub web_title: Option<String>,
    /// `Web/Url`.
    pub web_url: Option<String>,
}

/// The staff fields of `create_user` / `update_user` (all but `UserID` only when changed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    /// `UserID`.
    pub user_id: String,
    /// `NewUserID`: on `update_user`, when the user id changed.
    pub new_user_id: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// `Department`: department ids.
    pub department: Option<Vec<u64>>,
    /// `MainDepartment`.
    pub main_department: Option<u64>,
    /// `IsLeaderInDept`: 1/0 per department, in `department`'s order.
    pub is_leader_in_dept: Option<Vec<u32>>,
    /// `DirectLeader`: user ids of the direct leaders.
    pub direct_leader: Option<Vec<String>>,
    /// `Position`.
    pub position: Option<String>,
    /// `Mobile`.
    pub mobile: Option<String>,
    /// `Gender`: 1 male, 2 female, 0 unknown.
    pub gender: Option<String>,
    /// `Email`.
    pub email: Option<String>,
    /// `BizMail`.
    pub biz_mail: Option<String>,
    /// `Status`: 1 active, 2 disabled, 4 not activated, 5 resigned (离职).
    pub status: Option<u32>,
    /// `Avatar`.
    pub avatar: Option<String>,
    /// `Alias`.
    pub alias: Option<String>,
    /// `EnglishName` (older docs).
    pub english_name: Option<String>,
    /// `IsLeader` (older docs).
    pub is_leader: Option<u32>,
    /// `Telephone`.
    pub telephone: Option<String>,
    /// `Address`.
    pub address: Option<String>,
    /// `ExtAttr/Item`s.
    pub ext_attr: Vec<ExtAttr>,
}

/// The department fields of `create_party` / `update_party`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyChange {
    /// `Id`: the department.
    pub id: u64,
    /// `Name`, when given.
    pub name: Option<String>,
    /// `ParentId`, when given.
    pub parent_id: Option<u64>,
    /// `Order`, when given.
    pub order: Option<u64>,
}

/// The fields of `update_tag` (a staff tag, not a customer tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffTagChange {
    /// `TagId`.
    pub tag_id: u64,
    /// `AddUserItems`.
    pub add_user_items: Vec<String>,
    /// `DelUserItems`.
    pub del_user_items: Vec<String>,
    /// `AddPartyItems`.
    pub add_party_items: Vec<u64>,
    /// `DelPartyItems`.
    pub del_party_items: Vec<u64>,
}

/// `ChangeType` of `change_contact`, with its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactChange {
    /// `create_user` (boxed: the staff fields are large).
    CreateUser(Box<UserChange>),
    /// `update_user` (boxed: the staff fields are large).
    UpdateUser(Box<UserChange>),
    /// `delete_user`.
    DeleteUser {
        /// `UserID`.
        user_id: String,
    },
    /// `create_party`.
    CreateParty(PartyChange),
    /// `update_party`.
    UpdateParty(PartyChange),
    /// `delete_party`.
    DeleteParty {
        /// `Id`.
        id: u64,
    },
    /// `update_tag`.
    UpdateTag(StaffTagChange),
}

impl ContactChange {
    /// WeCom's `ChangeType` string.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::CreateUser(_) => "create_user",
            Self::UpdateUser(_) => "update_user",
            Self::DeleteUser { .. } => "delete_user",
            Self::CreateParty(_) => "create_party",
            Self::UpdateParty(_) => "update_party",
            Self::DeleteParty { .. } => "delete_party",
            Self::UpdateTag(_) => "update_tag",
        }
    }
}

/// A `change_contact` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactEvent {
    /// The common fields.
    pub header: EventHeader,
    /// `ChangeType` and its fields.
    pub change: ContactChange,
}

/// Parses decrypted callback XML into a [`CallbackEvent`]. Malformed XML, a missing or duplicated required
/// element, or a non-numeric numeric field is an error; an unknown event or change type is
/// [`CallbackEvent::Unknown`].
pub fn parse_event(xml: &str) -> Result<CallbackEvent> {
    let root = xml::parse_xml_root(xml)?;
    let event = match root.text_of("Event")? {
        Some(e) => e,
        None => match root.text_of("InfoType")? {
            Some(e) => e,
            None => root.text_of("MsgType")?.ok_or(Error::MissingField("Event"))?,
        },
    };
    let change_type = root.text_of("ChangeType")?;
    let unknown =
        || CallbackEvent::Unknown { event: event.clone(), change_type: change_type.clone(), raw: xml.to_owned() };
    let ct = change_type.as_deref().unwrap_or("");
    Ok(match event.as_str() {
        "change_external_contact" => match ExternalContactChange::parse(ct) {
            Some(change_type) => CallbackEvent::ExternalContact(ExternalContactEvent {
                header: header(&root, &event)?,
                change_type,
                user_id: required(&root, "UserID")?,
                external_user_id: required(&root, "ExternalUserID")?,
                state: root.text_of("State")?,
                welcome_code: root.text_of("WelcomeCode")?,
                source: root.text_of("Source")?,
                fail_reason: root.text_of("FailReason")?,
            }),
            None => unknown(),
        },
        "change_external_chat" => {
            let change = match ct {
                "create" => ExternalChatChange::Create,
                "dismiss" => ExternalChatChange::Dismiss,
                "update" => ExternalChatChange::Update(ChatUpdate {
                    update_detail: UpdateDetail::parse(&required(&root, "UpdateDetail")?),
                    join_scene: number(&root, "JoinScene")?,
                    quit_scene: number(&root, "QuitScene")?,
                    mem_change_cnt: number(&root, "MemChangeCnt")?,
                    mem_change_list: items(&root, "MemChangeList")?,
                    last_mem_ver: root.text_of("LastMemVer")?,
                    cur_mem_ver: root.text_of("CurMemVer")?,
                }),
                _ => return Ok(unknown()),
            };
            CallbackEvent::ExternalChat(ExternalChatEvent {
                header: header(&root, &event)?,
                chat_id: required(&root, "ChatId")?,
                change,
            })
        }
        "change_external_tag" => match ExternalTagChange::parse(ct) {
            Some(change_type) => CallbackEvent::ExternalTag(ExternalTagEvent {
                header: header(&root, &event)?,
                change_type,
                id: root.text_of("Id")?.unwrap_or_default(),
                tag_type: root.text_of("TagType")?.map(|t| match t.as_str() {
                    "tag" => TagType::Tag,
                    "tag_group" => TagType::TagGroup,
                    _ => TagType::Other(t),
                }),
                strategy_id: number(&root, "StrategyId")?,
            }),
            None => unknown(),
        },
        "change_contact" => {
            let change = match ct {
                "create_user" => ContactChange::CreateUser(Box::new(user_change(&root)?)),
                "update_user" => ContactChange::UpdateUser(Box::new(user_change(&root)?)),
                "delete_user" => ContactChange::DeleteUser { user_id: required(&root, "UserID")? },
                "create_party" => ContactChange::CreateParty(party_change(&root)?),
                "update_party" => ContactChange::UpdateParty(party_change(&root)?),
                "delete_party" => ContactChange::DeleteParty { id: required_number(&root, "Id")? },
                "update_tag" => ContactChange::UpdateTag(StaffTagChange {
                    tag_id: required_number(&root, "TagId")?,
                    add_user_items: list(&root, "AddUserItems")?.unwrap_or_default(),
                    del_user_items: list(&root, "DelUserItems")?.unwrap_or_default(),
                    add_party_items: number_list(&root, "AddPartyItems")?.unwrap_or_default(),
                    del_party_items: number_list(&root, "DelPartyItems")?.unwrap_or_default(),
                }),
                _ => return Ok(unknown()),
            };
            CallbackEvent::Contact(ContactEvent { header: header(&root, &event)?, change })
        }
        _ => unknown(),
    })
}

impl CallbackEvent {
    /// Parses decrypted callback XML; see [`parse_event`].
    pub fn parse(xml: &str) -> Result<Self> {
        parse_event(xml)
    }

    /// The event name (`Event` / `InfoType`).
    pub fn event(&self) -> &str {
        match self {
            Self::ExternalContact(e) => &e.header.event,
            Self::ExternalChat(e) => &e.header.event,
            Self::ExternalTag(e) => &e.header.event,
            Self::Contact(e) => &e.header.event,
            Self::Unknown { event, .. } => event,
        }
    }

    /// The `ChangeType`, when the event has one.
    pub fn change_type(&self) -> Option<&str> {
        match self {
            Self::ExternalContact(e) => Some(e.change_type.as_str()),
            Self::ExternalChat(e) => Some(e.change.as_str()),
            Self::ExternalTag(e) => Some(e.change_type.as_str()),
            Self::Contact(e) => Some(e.change.as_str()),
            Self::Unknown { change_type, .. } => change_type.as_deref(),
        }
    }

    /// The common fields, for the typed variants.
    pub fn header(&self) -> Option<&EventHeader> {
        match self {
            Self::ExternalContact(e) => Some(&e.header),
            Self::ExternalChat(e) => Some(&e.header),
            Self::ExternalTag(e) => Some(&e.header),
            Self::Contact(e) => Some(&e.header),
            Self::Unknown { .. } => None,
        }
    }

    /// A stable key, identical for WeCom's retries of the same event and different for distinct events:
    /// `"wc1:"` + SHA1 hex over the header and all typed fields (see the [module docs](self)).
    pub fn dedup_key(&self) -> String {
        let mut c = Canon::default();
        c.str(self.event());
        c.opt(self.change_type());
        if let Some(h) = self.header() {
            c.str(&h.to_user_name);
            c.opt(h.suite_id.as_deref());
            c.str(&h.create_time.to_string());
        }
        match self {
            Self::ExternalContact(e) => {
                c.str(&e.user_id);
                c.str(&e.external_user_id);
                c.opt(e.state.as_deref());
                c.opt(e.welcome_code.as_deref());
                c.opt(e.source.as_deref());
                c.opt(e.fail_reason.as_deref());
            }
            Self::ExternalChat(e) => {
                c.str(&e.chat_id);
                if let ExternalChatChange::Update(u) = &e.change {
                    c.str(u.update_detail.as_str());
                    c.num(u.join_scene);
                    c.num(u.quit_scene);
                    c.num(u.mem_change_cnt);
                    c.list(&u.mem_change_list);
                    c.opt(u.last_mem_ver.as_deref());
                    c.opt(u.cur_mem_ver.as_deref());
                }
            }
            Self::ExternalTag(e) => {
                c.str(&e.id);
                c.opt(e.tag_type.as_ref().map(TagType::as_str));
                c.num(e.strategy_id);
            }
            Self::Contact(e) => match &e.change {
                ContactChange::CreateUser(u) | ContactChange::UpdateUser(u) => canon_user(&mut c, u),
                ContactChange::DeleteUser { user_id } => c.str(user_id),
                ContactChange::CreateParty(p) | ContactChange::UpdateParty(p) => {
                    c.num(Some(p.id));
                    c.opt(p.name.as_deref());
                    c.num(p.parent_id);
                    c.num(p.order);
                }
                ContactChange::DeleteParty { id } => c.num(Some(*id)),
                ContactChange::UpdateTag(t) => {
                    c.num(Some(t.tag_id));
                    c.list(&t.add_user_items);
                    c.list(&t.del_user_items);
                    c.list(&t.add_party_items.iter().map(u64::to_string).collect::<Vec<_>>());
                    c.list(&t.del_party_items.iter().map(u64::to_string).collect::<Vec<_>>());
                }
            },
            Self::Unknown { raw, .. } => match xml::parse(raw) {
                Ok(root) => {
                    for (path, text) in root.leaves() {
                        c.str(&path);
                        c.str(&text);
                    }
                }
                Err(_) => c.str(raw),
            },
        }
        format!("wc1:{}", crate::crypto::hex(&c.hasher.finalize()))
    }
}

fn canon_user(c: &mut Canon, u: &UserChange) {
    c.str(&u.user_id);
    c.opt(u.new_user_id.as_deref());
    c.opt(u.name.as_deref());
    match &u.department {
        Some(d) => c.list(&d.iter().map(u64::to_string).collect::<Vec<_>>()),
        None => c.opt(None),
    }
    c.num(u.main_department);
    match &u.is_leader_in_dept {
        Some(d) => c.list(&d.iter().map(u32::to_string).collect::<Vec<_>>()),
        None => c.opt(None),
    }
    match &u.direct_leader {
        Some(d) => c.list(d),
        None => c.opt(None),
    }
    for f in [
        &u.position,
        &u.mobile,
        &u.gender,
        &u.email,
        &u.biz_mail,
        &u.avatar,
        &u.alias,
        &u.english_name,
        &u.telephone,
        &u.address,
    ] {
        c.opt(f.as_deref());
    }
    c.num(u.status);
    c.num(u.is_leader);
    c.num(Some(u.ext_attr.len()));
    for a in &u.ext_attr {
        c.str(&a.name);
        c.num(a.attr_type);
        c.opt(a.value.as_deref());
        c.opt(a.web_title.as_deref());
        c.opt(a.web_url.as_deref());
    }
}

/// An unambiguous (length-prefixed, presence-tagged) serialization fed straight into SHA1.
#[derive(Default)]
struct Canon {
    hasher: Sha1,
}

impl Canon {
    fn str(&mut self, s: &str) {
        self.hasher.update(b"s");
        self.hasher.update((s.len() as u64).to_be_bytes());
        self.hasher.update(s.as_bytes());
    }

    fn opt(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.hasher.update(b"n"),
        }
    }

    fn num<T: ToString>(&mut self, n: Option<T>) {
        self.opt(n.map(|n| n.to_string()).as_deref());
    }

    fn list(&mut self, items: &[String]) {
        self.hasher.update(b"l");
        self.hasher.update((items.len() as u64).to_be_bytes());
        for i in items {
            self.str(i);
        }
    }
}

fn header(root: &Element, event: &str) -> Result<EventHeader> {
    let create_time = match number::<i64>(root, "CreateTime")? {
        Some(t) => t,
        None => number::<i64>(root, "TimeStamp")?.ok_or(Error::MissingField("CreateTime"))?,
    };
    let to_user_name = match root.text_of("ToUserName")? {
        Some(t) => t,
        None => root.text_of("AuthCorpId")?.ok_or(Error::MissingField("ToUserName"))?,
    };
    Ok(EventHeader {
        to_user_name,
        from_user_name: root.text_of("FromUserName")?,
        create_time,
        msg_type: root.text_of("MsgType")?,
        event: event.to_owned(),
        suite_id: root.text_of("SuiteId")?,
        agent_id: root.text_of("AgentID")?,
    })
}

fn required(root: &Element, name: &'static str) -> Result<String> {
    root.text_of(name)?.ok_or(Error::MissingField(name))
}

fn parse_number<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T> {
    value.trim().parse().map_err(|_| Error::InvalidField { field: name, value: clip(value) })
}

/// An optional numeric element; an empty element counts as absent.
fn number<T: std::str::FromStr>(root: &Element, name: &'static str) -> Result<Option<T>> {
    match root.text_of(name)? {
        Some(v) if !v.is_empty() => parse_number(name, &v).map(Some),
        _ => Ok(None),
    }
}

fn required_number<T: std::str::FromStr>(root: &Element, name: &'static str) -> Result<T> {
    number(root, name)?.ok_or(Error::MissingField(name))
}

/// An optional comma-separated list (`1,2,3`); empty entries are dropped.
fn list(root: &Element, name: &'static str) -> Result<Option<Vec<String>>> {
    Ok(root.text_of(name)?.map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()))
}

fn number_list<T: std::str::FromStr>(root: &Element, name: &'static str) -> Result<Option<Vec<T>>> {
    match list(root, name)? {
        Some(items) => items.iter().map(|s| parse_number(name, s)).collect::<Result<Vec<T>>>().map(Some),
        None => Ok(None),
    }
}

/// A list given either as `<Item>` children or as comma-separated text.
fn items(root: &Element, name: &'static str) -> Result<Vec<String>> {
    let Some(el) = root.child(name)? else {
        return Ok(Vec::new());
    };
    if el.children.is_empty() {
        return Ok(list(root, name)?.unwrap_or_default());
    }
    Ok(el.children.iter().filter(|c| c.name == "Item").map(|c| c.trimmed().to_owned()).collect())
}

fn user_change(root: &Element) -> Result<UserChange> {
    let mut ext_attr = Vec::new();
    if let Some(attrs) = root.child("ExtAttr")? {
        for item in attrs.children.iter().filter(|c| c.name == "Item") {
            let text = item.child("Text")?;
            let web = item.child("Web")?;
            ext_attr.push(ExtAttr {
                name: item.text_of("Name")?.unwrap_or_default(),
                attr_type: number(item, "Type")?,
                value: match item.text_of("Value")? {
                    Some(v) => Some(v),
                    None => text.map(|t| t.text_of("Value")).transpose()?.flatten(),
                },
                web_title: web.map(|w| w.text_of("Title")).transpose()?.flatten(),
                web_url: web.map(|w| w.text_of("Url")).transpose()?.flatten(),
            });
        }
    }
    Ok(UserChange {
        user_id: required(root, "UserID")?,
        new_user_id: root.text_of("NewUserID")?,
        name: root.text_of("Name")?,
        department: number_list(root, "Department")?,
        main_department: number(root, "MainDepartment")?,
        is_leader_in_dept: number_list(root, "IsLeaderInDept")?,
        direct_leader: list(root, "DirectLeader")?,
        position: root.text_of("Position")?,
        mobile: root.text_of("Mobile")?,
        gender: root.text_of("Gender")?,
        email: root.text_of("Email")?,
        biz_mail: root.text_of("BizMail")?,
        status: number(root, "Status")?,
        avatar: root.text_of("Avatar")?,
        alias: root.text_of("Alias")?,
        english_name: root.text_of("EnglishName")?,
        is_leader: number(root, "IsLeader")?,
        telephone: root.text_of("Telephone")?,
        address: root.text_of("Address")?,
        ext_attr,
    })
}

fn party_change(root: &Element) -> Result<PartyChange> {
    Ok(PartyChange {
        id: required_number(root, "Id")?,
        name: root.text_of("Name")?,
        parent_id: number(root, "ParentId")?,
        order: number(root, "Order")?,
    })
}
