//! Pure rules of the group service: how a WeCom snapshot or a member callback merges into what is stored.
//!
//! Every rule is idempotent: applying the same input to its own result changes nothing. Times are Unix
//! milliseconds.

use std::collections::HashMap;

/// `GroupMemberType` values (WeCom's member `type`).
pub mod member_type {
    /// Staff member (企业成员).
    pub const STAFF: i32 = 1;
    /// Customer (外部联系人).
    pub const CUSTOMER: i32 = 2;
}

/// `QuitScene` values.
pub mod quit_scene {
    /// Not known.
    pub const UNSPECIFIED: i32 = 0;
    /// The group was dismissed.
    pub const GROUP_DISMISSED: i32 = 3;
    /// Missing from a complete member snapshot.
    pub const MISSING_FROM_SNAPSHOT: i32 = 4;
}

/// `GroupChatStatus::Dismissed`: not stored as a status, but as `dismissed_at`.
pub const STATUS_DISMISSED: i32 = 5;

/// Most snapshots, member entries or chat ids accepted in one call.
pub const MAX_BATCH: usize = 1000;

/// A group as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRecord {
    /// WeCom chat_id.
    pub chat_id: String,
    /// Group name; empty when unnamed.
    pub name: String,
    /// Owner's WeCom userid.
    pub owner_userid: String,
    /// 群公告; empty when none.
    pub notice: String,
    /// `GroupChatStatus` 1..=4.
    pub status: i32,
    /// `admin_list`, in WeCom's order.
    pub admin_userids: Vec<String>,
    /// WeCom's member_version; empty when unknown.
    pub member_version: String,
    /// When WeCom created the group.
    pub created_at: i64,
    /// When the group was dismissed.
    pub dismissed_at: Option<i64>,
    /// observed_at of the last snapshot applied.
    pub observed_at: Option<i64>,
    /// Current members.
    pub member_count: i32,
    /// Current members of type customer.
    pub customer_count: i32,
    /// Current members of type staff.
    pub staff_count: i32,
}

impl ChatRecord {
    /// Whether the fields that `updated_at` tracks (everything but members, counters and bookkeeping) differ.
    fn group_fields_differ(&self, other: &ChatRecord) -> bool {
        (&self.name, &self.owner_userid, &self.notice, self.status, &self.admin_userids, self.created_at)
            != (&other.name, &other.owner_userid, &other.notice, other.status, &other.admin_userids, other.created_at)
            || self.dismissed_at != other.dismissed_at
    }
}

/// A member as stored, current (`left_at` unset) or departed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRecord {
    /// WeCom userid (staff) or external_userid (customer).
    pub userid: String,
    /// `GroupMemberType`; 0 when unknown.
    pub member_type: i32,
    /// WeCom `name`; empty when unknown.
    pub name: String,
    /// WeCom `group_nickname`.
    pub group_nickname: String,
    /// WeCom `unionid`; empty when unknown.
    pub unionid: String,
    /// WeCom `join_time`.
    pub joined_at: i64,
    /// `JoinScene`; 0 when unknown.
    pub join_scene: i32,
    /// WeCom `invitor.userid`; empty when unknown.
    pub inviter_userid: String,
    /// The join way's `state`; empty when none.
    pub state: String,
    /// When the member left; `None` for current members.
    pub left_at: Option<i64>,
    /// `QuitScene`; 0 for current members.
    pub quit_scene: i32,
}

impl MemberRecord {
    /// Whether the member is in the group now.
    pub fn is_current(&self) -> bool {
        self.left_at.is_none()
    }
}

/// A member as WeCom reports it (snapshot `member_list` entry or join callback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInput {
    /// WeCom `userid`.
    pub userid: String,
    /// `GroupMemberType`; 0 keeps the stored type.
    pub member_type: i32,
    /// WeCom `join_time`; `None` keeps the stored time.
    pub joined_at: Option<i64>,
    /// `JoinScene`; 0 keeps the stored scene.
    pub join_scene: i32,
    /// Empty keeps the stored inviter.
    pub inviter_userid: String,
    /// The nickname in the group; empty clears it (WeCom always sends it).
    pub group_nickname: String,
    /// Empty keeps the stored name (WeCom sends it only with need_name=1).
    pub name: String,
    /// Empty keeps the stored unionid.
    pub unionid: String,
    /// Empty keeps the stored state.
    pub state: String,
}

/// A member leaving (del_member callback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    /// WeCom `userid`.
    pub userid: String,
    /// `QuitScene`.
    pub quit_scene: i32,
    /// When they left; `None` = now.
    pub left_at: Option<i64>,
}

/// A group as WeCom reports it (`groupchat/get`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSnapshot {
    /// WeCom chat_id.
    pub chat_id: String,
    /// WeCom `name`.
    pub name: String,
    /// WeCom `owner`.
    pub owner_userid: String,
    /// WeCom `create_time`; `None` keeps the stored time.
    pub created_at: Option<i64>,
    /// WeCom `notice`.
    pub notice: String,
    /// `GroupChatStatus`; 0 keeps the stored status, 5 marks the group dismissed.
    pub status: i32,
    /// WeCom `admin_list`.
    pub admin_userids: Vec<String>,
    /// Whether `members` is the complete membership.
    pub members_complete: bool,
    /// WeCom `member_list`, one entry per userid.
    pub members: Vec<MemberInput>,
    /// WeCom `member_version`; empty keeps the stored version.
    pub member_version: String,
    /// When the snapshot was read; `None` = no ordering information.
    pub observed_at: Option<i64>,
}

/// What merging produced: the rows to write and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    /// The group row to write; `None` when it is unchanged.
    pub chat: Option<ChatRecord>,
    /// Whether `updated_at` must move (group fields changed, or the group is new).
    pub touch_updated_at: bool,
    /// Member rows to write (inserted or replaced).
    pub members: Vec<MemberRecord>,
    /// Members recorded as joined (new or back after leaving).
    pub joined: i32,
    /// Members recorded as left.
    pub left: i32,
    /// Entries that changed nothing.
    pub unchanged: i32,
}

impl Merge {
    /// Whether anything is to be written.
    pub fn changes_anything(&self) -> bool {
        self.chat.is_some() || !self.members.is_empty()
    }
}

/// Merges `snapshot` into the stored group (`None` when new) and its stored members (current and departed).
/// A snapshot older than the stored one changes nothing.
pub fn merge_snapshot(
    stored: Option<&ChatRecord>,
    stored_members: &[MemberRecord],
    snapshot: &ChatSnapshot,
    now: i64,
) -> Merge {
    if let (Some(stored), Some(observed_at)) = (stored, snapshot.observed_at)
        && stored.observed_at.is_some_and(|stored_at| observed_at < stored_at)
    {
        return Merge { chat: None, touch_updated_at: false, members: Vec::new(), joined: 0, left: 0, unchanged: 1 };
    }
    let seen_at = snapshot.observed_at.unwrap_or(now);
    let mut members: HashMap<&str, &MemberRecord> =
        stored_members.iter().map(|member| (member.userid.as_str(), member)).collect();
    let mut writes = Vec::new();
    let (mut joined, mut left) = (0, 0);
    for input in &snapshot.members {
        let current = members.remove(input.userid.as_str());
        let (record, rejoined) = merge_member(current, input, snapshot.observed_at, seen_at);
        if current != Some(&record) {
            joined += i32::from(rejoined);
            writes.push(record);
        }
    }
    if snapshot.members_complete {
        let mut missing: Vec<&MemberRecord> = members
            .into_values()
            .filter(|member| member.is_current())
            // A member who joined after the snapshot was read is not missing from it.
            .filter(|member| snapshot.observed_at.is_none_or(|observed_at| member.joined_at <= observed_at))
            .collect();
        missing.sort_by(|a, b| a.userid.cmp(&b.userid));
        for member in missing {
            left += 1;
            writes.push(MemberRecord {
                left_at: Some(seen_at.max(member.joined_at)),
                quit_scene: quit_scene::MISSING_FROM_SNAPSHOT,
                ..member.clone()
            });
        }
    }

    let mut next = match stored {
        Some(stored) => stored.clone(),
        None => ChatRecord {
            chat_id: snapshot.chat_id.clone(),
            name: String::new(),
            owner_userid: String::new(),
            notice: String::new(),
            status: 1,
            admin_userids: Vec::new(),
            member_version: String::new(),
            created_at: snapshot.created_at.unwrap_or(seen_at),
            dismissed_at: None,
            observed_at: None,
            member_count: 0,
            customer_count: 0,
            staff_count: 0,
        },
    };
    next.name.clone_from(&snapshot.name);
    next.owner_userid.clone_from(&snapshot.owner_userid);
    next.notice.clone_from(&snapshot.notice);
    next.admin_userids.clone_from(&snapshot.admin_userids);
    if let Some(created_at) = snapshot.created_at {
        next.created_at = created_at;
    }
    match snapshot.status {
        0 => {}
        STATUS_DISMISSED => {
            next.dismissed_at.get_or_insert(seen_at);
        }
        status => next.status = status,
    }
    if !snapshot.member_version.is_empty() {
        next.member_version.clone_from(&snapshot.member_version);
    }
    if next.dismissed_at.is_some() && stored.is_none_or(|stored| stored.dismissed_at.is_none()) {
        // Dismissed by this very snapshot: everyone still in the group leaves with it.
        let dismissed_at = next.dismissed_at.unwrap_or(seen_at);
        dismiss_members(stored_members, &mut writes, &mut left, dismissed_at);
    }
    let (member_count, customer_count, staff_count) = counts(stored_members, &writes);
    (next.member_count, next.customer_count, next.staff_count) = (member_count, customer_count, staff_count);

    let touch_updated_at = stored.is_none_or(|stored| stored.group_fields_differ(&next));
    let changed = stored.is_none_or(|stored| *stored != next) || !writes.is_empty();
    if changed && let Some(observed_at) = snapshot.observed_at {
        next.observed_at = Some(next.observed_at.map_or(observed_at, |stored_at| stored_at.max(observed_at)));
    }
    let chat = (stored.is_none_or(|stored| *stored != next)).then_some(next);
    let unchanged = i32::from(chat.is_none() && writes.is_empty());
    Merge { chat, touch_updated_at, members: writes, joined, left, unchanged }
}

/// Whether a member callback that moves the group from `last_mem_ver` to `cur_mem_ver` missed a change, given
/// the stored member version. A replay of the callback already applied is no gap.
pub fn version_gap(stored: &str, last_mem_ver: &str, cur_mem_ver: &str) -> bool {
    !stored.is_empty() && !last_mem_ver.is_empty() && stored != last_mem_ver && stored != cur_mem_ver
}

/// Merges member joins and departures from callbacks into the stored members of a known group, and records
/// `member_version` unless it is empty.
pub fn merge_member_changes(
    stored: &ChatRecord,
    stored_members: &[MemberRecord],
    joined: &[MemberInput],
    departed: &[Departure],
    member_version: &str,
    now: i64,
) -> Merge {
    let mut latest: HashMap<String, MemberRecord> =
        stored_members.iter().map(|member| (member.userid.clone(), member.clone())).collect();
    let mut touched: Vec<String> = Vec::new();
    let (mut joins, mut leaves, mut unchanged) = (0, 0, 0);
    for input in joined {
        let current = latest.get(&input.userid);
        let (record, rejoined) = merge_member(current, input, None, now);
        if rejoined {
            joins += 1;
        } else {
            unchanged += 1;
        }
        if current != Some(&record) {
            touched.push(record.userid.clone());
            latest.insert(record.userid.clone(), record);
        }
    }
    for departure in departed {
        let left_at = departure.left_at.unwrap_or(now);
        match latest.get_mut(&departure.userid) {
            // A leave reported before the join we know of is an old one.
            Some(member) if member.is_current() && left_at >= member.joined_at => {
                member.left_at = Some(left_at);
                member.quit_scene = departure.quit_scene;
                touched.push(departure.userid.clone());
                leaves += 1;
            }
            _ => unchanged += 1,
        }
    }
    touched.sort();
    touched.dedup();
    let writes: Vec<MemberRecord> = touched.iter().filter_map(|userid| latest.remove(userid)).collect();
    let mut next = stored.clone();
    (next.member_count, next.customer_count, next.staff_count) = counts(stored_members, &writes);
    if !member_version.is_empty() {
        member_version.clone_into(&mut next.member_version);
    }
    let chat = (next != *stored).then_some(next);
    Merge { chat, touch_updated_at: false, members: writes, joined: joins, left: leaves, unchanged }
}

/// Marks a stored group dismissed at `dismissed_at`, with its members; `None` when it already is.
pub fn merge_dismissal(stored: &ChatRecord, stored_members: &[MemberRecord], dismissed_at: i64) -> Option<Merge> {
    if stored.dismissed_at.is_some() {
        return None;
    }
    let (mut writes, mut left) = (Vec::new(), 0);
    dismiss_members(stored_members, &mut writes, &mut left, dismissed_at);
    let mut next = stored.clone();
    next.dismissed_at = Some(dismissed_at);
    (next.member_count, next.customer_count, next.staff_count) = counts(stored_members, &writes);
    Some(Merge { chat: Some(next), touch_updated_at: true, members: writes, joined: 0, left, unchanged: 0 })
}

/// Marks every member still in a group being dismissed at `dismissed_at` as left with it: those about to be
/// written (`writes`) and the stored ones. Counts them in `left`.
pub fn dismiss_members(
    stored_members: &[MemberRecord],
    writes: &mut Vec<MemberRecord>,
    left: &mut i32,
    dismissed_at: i64,
) {
    let leave = |member: &MemberRecord| MemberRecord {
        left_at: Some(dismissed_at.max(member.joined_at)),
        quit_scene: quit_scene::GROUP_DISMISSED,
        ..member.clone()
    };
    for write in writes.iter_mut().filter(|write| write.is_current()) {
        *write = leave(write);
        *left += 1;
    }
    for member in stored_members.iter().filter(|member| member.is_current()) {
        if !writes.iter().any(|write| write.userid == member.userid) {
            writes.push(leave(member));
            *left += 1;
        }
    }
}

/// The member, customer and staff counts once `writes` replace their stored rows.
fn counts(stored_members: &[MemberRecord], writes: &[MemberRecord]) -> (i32, i32, i32) {
    let mut current: HashMap<&str, i32> = stored_members
        .iter()
        .filter(|member| member.is_current())
        .map(|member| (member.userid.as_str(), member.member_type))
        .collect();
    for write in writes {
        if write.is_current() {
            current.insert(write.userid.as_str(), write.member_type);
        } else {
            current.remove(write.userid.as_str());
        }
    }
    let of_type = |kind: i32| current.values().filter(|member_type| **member_type == kind).count() as i32;
    (current.len() as i32, of_type(member_type::CUSTOMER), of_type(member_type::STAFF))
}

/// Merges one reported member into its stored row (`None` when never seen). Returns the row and whether the
/// member counts as joined: new, or back after leaving. A member who left after the reported join time (or
/// after the snapshot was read) stays left: the report is older than the departure.
fn merge_member(
    stored: Option<&MemberRecord>,
    input: &MemberInput,
    observed_at: Option<i64>,
    seen_at: i64,
) -> (MemberRecord, bool) {
    let keep = |incoming: &str, stored: &str| if incoming.is_empty() { stored.to_owned() } else { incoming.to_owned() };
    let Some(stored) = stored else {
        let record = MemberRecord {
            userid: input.userid.clone(),
            member_type: input.member_type,
            name: input.name.clone(),
            group_nickname: input.group_nickname.clone(),
            unionid: input.unionid.clone(),
            joined_at: input.joined_at.unwrap_or(seen_at),
            join_scene: input.join_scene,
            inviter_userid: input.inviter_userid.clone(),
            state: input.state.clone(),
            left_at: None,
            quit_scene: quit_scene::UNSPECIFIED,
        };
        return (record, true);
    };
    let rejoined = match stored.left_at {
        None => false,
        Some(left_at) => match input.joined_at {
            Some(joined_at) => joined_at >= left_at,
            None => observed_at.is_none_or(|observed_at| observed_at > left_at),
        },
    };
    if stored.left_at.is_some() && !rejoined {
        return (stored.clone(), false);
    }
    let record = MemberRecord {
        userid: stored.userid.clone(),
        member_type: if input.member_type == 0 { stored.member_type } else { input.member_type },
        name: keep(&input.name, &stored.name),
        group_nickname: input.group_nickname.clone(),
        unionid: keep(&input.unionid, &stored.unionid),
        joined_at: input.joined_at.unwrap_or(if rejoined { seen_at } else { stored.joined_at }),
        join_scene: if input.join_scene == 0 { stored.join_scene } else { input.join_scene },
        inviter_userid: keep(&input.inviter_userid, &stored.inviter_userid),
        state: keep(&input.state, &stored.state),
        left_at: None,
        quit_scene: quit_scene::UNSPECIFIED,
    };
    (record, rejoined)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(userid: &str, member_type: i32, joined_at: i64) -> MemberInput {
        MemberInput {
            userid: userid.to_owned(),
            member_type,
            joined_at: Some(joined_at),
            join_scene: 3,
            inviter_userid: String::new(),
            group_nickname: String::new(),
            name: String::new(),
            unionid: String::new(),
            state: "qr-1".to_owned(),
        }
    }

    fn snapshot(members: Vec<MemberInput>, observed_at: i64) -> ChatSnapshot {
        ChatSnapshot {
            chat_id: "wr1".into(),
            name: "福利群".into(),
            owner_userid: "zhangsan".into(),
            created_at: Some(1_000),
            notice: String::new(),
            status: 1,
            admin_userids: vec!["lisi".into()],
            members_complete: true,
            members,
            member_version: "v1".into(),
            observed_at: Some(observed_at),
        }
    }

    /// Applies a merge to stored state, as the store does.
    fn apply(chat: &mut Option<ChatRecord>, members: &mut Vec<MemberRecord>, merge: Merge) {
        if let Some(next) = merge.chat {
            *chat = Some(next);
        }
        for write in merge.members {
            members.retain(|member| member.userid != write.userid);
            members.push(write);
        }
    }

    #[test]
    fn a_snapshot_applied_twice_changes_nothing_the_second_time() {
        let input = snapshot(vec![member("zhangsan", 1, 1_000), member("wm1", 2, 2_000)], 5_000);
        let first = merge_snapshot(None, &[], &input, 9_000);
        assert_eq!((first.joined, first.left, first.unchanged), (2, 0, 0));
        assert!(first.touch_updated_at);
        let (mut chat, mut members) = (None, Vec::new());
        apply(&mut chat, &mut members, first);
        let stored = chat.as_ref().unwrap();
        assert_eq!((stored.member_count, stored.customer_count, stored.staff_count), (2, 1, 1));
        let second = merge_snapshot(chat.as_ref(), &members, &input, 10_000);
        assert!(!second.changes_anything());
        assert_eq!(second.unchanged, 1);
    }

    #[test]
    fn missing_members_of_a_complete_snapshot_leave_and_an_older_snapshot_is_ignored() {
        let (mut chat, mut members) = (None, Vec::new());
        let both = snapshot(vec![member("zhangsan", 1, 1_000), member("wm1", 2, 2_000)], 5_000);
        apply(&mut chat, &mut members, merge_snapshot(None, &[], &both, 9_000));
        let only_owner = snapshot(vec![member("zhangsan", 1, 1_000)], 6_000);
        let merge = merge_snapshot(chat.as_ref(), &members, &only_owner, 9_000);
        assert_eq!((merge.joined, merge.left), (0, 1));
        assert!(!merge.touch_updated_at, "members alone do not move updated_at");
        apply(&mut chat, &mut members, merge);
        let wm1 = members.iter().find(|member| member.userid == "wm1").unwrap();
        assert_eq!((wm1.left_at, wm1.quit_scene), (Some(6_000), quit_scene::MISSING_FROM_SNAPSHOT));
        assert_eq!(chat.as_ref().unwrap().member_count, 1);
        // The first snapshot arriving late changes nothing.
        assert!(!merge_snapshot(chat.as_ref(), &members, &both, 9_000).changes_anything());
        // A partial snapshot leaves absent members alone.
        let partial = ChatSnapshot { members_complete: false, members: vec![], observed_at: Some(7_000), ..only_owner };
        assert!(!merge_snapshot(chat.as_ref(), &members, &partial, 9_000).changes_anything());
    }

    #[test]
    fn joins_and_leaves_from_callbacks_are_idempotent_and_ordered() {
        let (mut chat, mut members) = (None, Vec::new());
        apply(
            &mut chat,
            &mut members,
            merge_snapshot(None, &[], &snapshot(vec![member("zhangsan", 1, 1_000)], 5_000), 0),
        );
        let stored = chat.clone().unwrap();
        let join = [member("wm2", 2, 6_000)];
        let merge = merge_member_changes(&stored, &members, &join, &[], "", 0);
        assert_eq!((merge.joined, merge.unchanged), (1, 0));
        apply(&mut chat, &mut members, merge);
        assert_eq!(chat.as_ref().unwrap().member_count, 2);
        let again = merge_member_changes(chat.as_ref().unwrap(), &members, &join, &[], "", 0);
        assert!(!again.changes_anything());
        assert_eq!((again.joined, again.unchanged), (0, 1));
        // A leave older than the join is stale; a later one applies once.
        let stale = [Departure { userid: "wm2".into(), quit_scene: 1, left_at: Some(5_500) }];
        assert!(!merge_member_changes(chat.as_ref().unwrap(), &members, &[], &stale, "", 0).changes_anything());
        let leave = [Departure { userid: "wm2".into(), quit_scene: 1, left_at: Some(7_000) }];
        let merge = merge_member_changes(chat.as_ref().unwrap(), &members, &[], &leave, "", 0);
        assert_eq!(merge.left, 1);
        apply(&mut chat, &mut members, merge);
        assert_eq!(chat.as_ref().unwrap().member_count, 1);
        assert!(!merge_member_changes(chat.as_ref().unwrap(), &members, &[], &leave, "", 0).changes_anything());
        // The old join replayed after the leave does not bring them back; a new join does.
        assert!(!merge_member_changes(chat.as_ref().unwrap(), &members, &join, &[], "", 0).changes_anything());
        let rejoin = [member("wm2", 2, 8_000)];
        let merge = merge_member_changes(chat.as_ref().unwrap(), &members, &rejoin, &[], "", 0);
        assert_eq!(merge.joined, 1);
        apply(&mut chat, &mut members, merge);
        let wm2 = members.iter().find(|member| member.userid == "wm2").unwrap();
        assert_eq!((wm2.left_at, wm2.joined_at, wm2.quit_scene), (None, 8_000, 0));
    }

    #[test]
    fn empty_optional_details_keep_what_is_stored() {
        let mut named = member("wm1", 2, 2_000);
        named.name = "小王".into();
        named.unionid = "ou1".into();
        let (mut chat, mut members) = (None, Vec::new());
        apply(&mut chat, &mut members, merge_snapshot(None, &[], &snapshot(vec![named], 5_000), 0));
        let mut bare = member("wm1", 0, 2_000);
        bare.joined_at = None;
        bare.join_scene = 0;
        bare.state.clear();
        assert!(!merge_snapshot(chat.as_ref(), &members, &snapshot(vec![bare], 5_000), 0).changes_anything());
    }
}
