//! Pure rules of the group list (PR04): sort columns, filters and keyset page tokens.
//!
//! A page token names the last row of the page (its sort value and id) and a fingerprint of the filters and
//! sort that produced it, so that a token is refused with other filters instead of silently skipping rows.

use scrm_kernel::StoreScope;

/// A column the group list sorts by (`GroupSortField`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Group name.
    Name,
    /// Owner (by userid: identity does not serve staff names yet).
    Owner,
    /// Store (by store id: identity does not serve store names yet).
    Store,
    /// Current members.
    MemberCount,
    /// Current customers.
    CustomerCount,
    /// Current staff.
    StaffCount,
    /// Creation time in WeCom.
    CreateTime,
    /// Distinct speakers today.
    Speakers1d,
    /// Distinct speakers in 7 days.
    Speakers7d,
    /// Distinct speakers in 30 days.
    Speakers30d,
    /// Messages today.
    Messages1d,
    /// Messages in 7 days.
    Messages7d,
    /// Messages in 30 days.
    Messages30d,
    /// Lurker ratio.
    LurkerRatio,
    /// Last message time.
    LastMessageTime,
    /// Alert state, then open alert count.
    AlertState,
    /// Tags carried.
    TagCount,
    /// Welcome coverage: every group is NOT_APPLICABLE until welcome rules land, so this is the id order.
    WelcomeCoverage,
}

impl SortKey {
    /// The key for a `GroupSortField` value; `None` for values this server does not know.
    pub fn from_proto(value: i32) -> Option<SortKey> {
        Some(match value {
            0 | 7 => SortKey::CreateTime,
            1 => SortKey::Name,
            2 => SortKey::Owner,
            3 => SortKey::Store,
            4 => SortKey::MemberCount,
            5 => SortKey::CustomerCount,
            6 => SortKey::StaffCount,
            8 => SortKey::Speakers1d,
            9 => SortKey::Speakers7d,
            10 => SortKey::Speakers30d,
            11 => SortKey::Messages1d,
            12 => SortKey::Messages7d,
            13 => SortKey::Messages30d,
            14 => SortKey::LurkerRatio,
            15 => SortKey::LastMessageTime,
            16 => SortKey::AlertState,
            17 => SortKey::TagCount,
            18 => SortKey::WelcomeCoverage,
            _ => return None,
        })
    }

    /// The SQL expression over `group_chat c` the key sorts by; never NULL.
    pub fn expression(self) -> &'static str {
        match self {
            SortKey::Name => "c.name",
            SortKey::Owner => "c.owner_userid",
            SortKey::Store => "COALESCE(c.store_id, '')",
            SortKey::MemberCount => "c.member_count",
            SortKey::CustomerCount => "c.customer_count",
            SortKey::StaffCount => "c.staff_count",
            SortKey::CreateTime => "c.created_at",
            SortKey::Speakers1d => "c.speakers_1d",
            SortKey::Speakers7d => "c.speakers_7d",
            SortKey::Speakers30d => "c.speakers_30d",
            SortKey::Messages1d => "c.messages_1d",
            SortKey::Messages7d => "c.messages_7d",
            SortKey::Messages30d => "c.messages_30d",
            SortKey::LurkerRatio => "c.lurker_ratio_bps",
            SortKey::LastMessageTime => "COALESCE(c.last_message_at, 0)",
            SortKey::AlertState => "(c.alert_state * 100000 + c.open_alert_count)",
            SortKey::TagCount => "c.tag_count",
            SortKey::WelcomeCoverage => "0",
        }
    }

    /// Whether the key's values are text (otherwise integers).
    pub fn is_text(self) -> bool {
        matches!(self, SortKey::Name | SortKey::Owner | SortKey::Store)
    }

    /// The direction used when the request leaves it unspecified: ascending for names, descending otherwise.
    pub fn default_ascending(self) -> bool {
        self.is_text() || self == SortKey::WelcomeCoverage
    }
}

/// The full order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    /// The column.
    pub key: SortKey,
    /// Smallest first; ties are broken by id in the same direction.
    pub ascending: bool,
}

impl Sort {
    /// The order for `GroupSortField` and `SortDirection` values; `None` names the bad field.
    pub fn from_proto(field: i32, direction: i32) -> Result<Sort, &'static str> {
        let key = SortKey::from_proto(field).ok_or("sort_by")?;
        let ascending = match direction {
            0 => key.default_ascending(),
            1 => true,
            2 => false,
            _ => return Err("sort_direction"),
        };
        Ok(Sort { key, ascending })
    }
}

/// A row's value in the sort column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    /// An integer column.
    Int(i64),
    /// A text column.
    Text(String),
}

/// Where the next page starts: after the row with this sort value and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Fingerprint of the filters and sort of the listing.
    pub fingerprint: u64,
    /// The last row's sort value.
    pub value: SortValue,
    /// The last row's id.
    pub id: i64,
}

impl Cursor {
    /// The page token: `g1.<fingerprint>.<id>.<i|t><value>`, text values hex-encoded.
    pub fn encode(&self) -> String {
        let value = match &self.value {
            SortValue::Int(value) => format!("i{value}"),
            SortValue::Text(text) => format!("t{}", text.bytes().map(|byte| format!("{byte:02x}")).collect::<String>()),
        };
        format!("g1.{:016x}.{}.{value}", self.fingerprint, self.id)
    }

    /// Reads a page token; `None` when it is not one [`Cursor::encode`] wrote.
    pub fn decode(token: &str) -> Option<Cursor> {
        let mut parts = token.splitn(4, '.');
        if parts.next()? != "g1" {
            return None;
        }
        let fingerprint = u64::from_str_radix(parts.next()?, 16).ok()?;
        let id = parts.next()?.parse().ok()?;
        let value = parts.next()?;
        let value = if let Some(number) = value.strip_prefix('i') {
            SortValue::Int(number.parse().ok()?)
        } else {
            let hex = value.strip_prefix('t')?;
            if !hex.len().is_multiple_of(2) {
                return None;
            }
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|at| hex.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
                .collect::<Option<Vec<u8>>>()?;
            SortValue::Text(String::from_utf8(bytes).ok()?)
        };
        Some(Cursor { fingerprint, value, id })
    }
}

/// FNV-1a over `bytes`: a stable fingerprint of a listing's filters and sort.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

/// Which groups a listing returns. Every filter combines with AND; an empty list matches everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupFilter {
    /// The caller's store scope.
    pub scope: StoreScope,
    /// Owners' userids.
    pub owners: Vec<String>,
    /// Store ids.
    pub store_ids: Vec<String>,
    /// Tag ids.
    pub tag_ids: Vec<i64>,
    /// Require every tag of `tag_ids` instead of any.
    pub match_all_tags: bool,
    /// `ActivityBand` values.
    pub activity_bands: Vec<i32>,
    /// `GroupAlertState` values.
    pub alert_states: Vec<i32>,
    /// Case-insensitive substring of the name.
    pub name_query: String,
    /// WeCom chat_ids.
    pub chat_ids: Vec<String>,
    /// scrm ids.
    pub ids: Vec<i64>,
    /// Ids of the groups matching a welcome-coverage filter, computed from the welcome rules; `None` when the
    /// request has no such filter.
    pub coverage_ids: Option<Vec<i64>>,
    /// True when the request cannot match anything: a KOC asked for other owners' groups.
    pub matches_nothing: bool,
    /// Include dismissed groups.
    pub include_dismissed: bool,
}

impl GroupFilter {
    /// A filter matching every live group in `scope`.
    pub fn all(scope: StoreScope) -> GroupFilter {
        GroupFilter {
            scope,
            owners: Vec::new(),
            store_ids: Vec::new(),
            tag_ids: Vec::new(),
            match_all_tags: false,
            activity_bands: Vec::new(),
            alert_states: Vec::new(),
            name_query: String::new(),
            chat_ids: Vec::new(),
            ids: Vec::new(),
            coverage_ids: None,
            matches_nothing: false,
            include_dismissed: false,
        }
    }
}

/// The `LIKE` pattern matching names containing `query`, with `!` as the escape character.
pub fn like_pattern(query: &str) -> String {
    let mut pattern = String::with_capacity(query.len() + 2);
    pattern.push('%');
    for ch in query.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '!') {
            pattern.push('!');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

/// A store id as the contract carries it: numeric, 0 when none or not numeric.
pub fn store_number(store_id: Option<&str>) -> i64 {
    store_id.and_then(|id| id.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_tokens_are_refused() {
        for value in [SortValue::Int(-5), SortValue::Int(i64::MAX), SortValue::Text("会员群 .x".into())] {
            let cursor = Cursor { fingerprint: 0xdead_beef, value, id: 42 };
            assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        }
        for token in ["", "g1", "g2.0.1.i1", "g1.zz.1.i1", "g1.00.x.i1", "g1.00.1.q1", "g1.00.1.tabc", "g1.00.1.tff"] {
            assert_eq!(Cursor::decode(token), None, "{token}");
        }
    }

    #[test]
    fn sorts_default_by_kind_and_refuse_unknown_values() {
        assert_eq!(Sort::from_proto(0, 0).unwrap(), Sort { key: SortKey::CreateTime, ascending: false });
        assert_eq!(Sort::from_proto(1, 0).unwrap(), Sort { key: SortKey::Name, ascending: true });
        assert_eq!(Sort::from_proto(4, 1).unwrap(), Sort { key: SortKey::MemberCount, ascending: true });
        assert_eq!(Sort::from_proto(99, 0).unwrap_err(), "sort_by");
        assert_eq!(Sort::from_proto(1, 3).unwrap_err(), "sort_direction");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("会员"), "%会员%");
        assert_eq!(like_pattern("50%_off!"), "%50!%!_off!!%");
        assert_eq!(like_pattern("VIP"), "%vip%");
    }

    #[test]
    fn fingerprints_differ_by_input() {
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
        assert_eq!(fingerprint(b"same"), fingerprint(b"same"));
    }

    #[test]
    fn store_ids_read_as_numbers() {
        assert_eq!((store_number(Some("12")), store_number(Some("s1")), store_number(None)), (12, 0, 0));
    }
}
