//! Pure rules of activity monitoring (PR07): calendar days in the corp's timezone, rolling figures, the lurker
//! ratio and the activity band.

pub use scrm_kernel::calendar::day_string;
use scrm_kernel::calendar::days_from_civil;

/// Milliseconds in a day.
pub const DAY_MILLIS: i64 = 86_400_000;
/// The corp's timezone: China Standard Time, UTC+8 (WeCom corps keep their books in it).
pub const CORP_UTC_OFFSET_MILLIS: i64 = 8 * 3_600_000;

/// The calendar day (days since 1970-01-01 in the corp's timezone) holding `millis`.
pub fn day_of(millis: i64) -> i64 {
    (millis + CORP_UTC_OFFSET_MILLIS).div_euclid(DAY_MILLIS)
}

/// The first millisecond of `day`.
pub fn start_of_day(day: i64) -> i64 {
    day * DAY_MILLIS - CORP_UTC_OFFSET_MILLIS
}

/// The day a YYYY-MM-DD string names; `None` when it is not a valid date.
pub fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.splitn(3, '-');
    let (y, m, d): (i64, i64, i64) =
        (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    if text.len() != 10 || !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let day = days_from_civil(y, m, d);
    (day_string(day) == text).then_some(day)
}

/// `ActivityBand` values.
pub mod band {
    /// Too young to judge.
    pub const NEW: i32 = 1;
    /// 死群.
    pub const DEAD: i32 = 2;
    /// Fewer than 5% of members spoke in 7 days.
    pub const LOW: i32 = 3;
    /// 5% to 20%.
    pub const MEDIUM: i32 = 4;
    /// More than 20%.
    pub const HIGH: i32 = 5;
}

/// What a group's band is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandInput {
    /// Now, Unix ms.
    pub now: i64,
    /// Creation of the group, Unix ms.
    pub created_at: i64,
    /// Last message, Unix ms.
    pub last_message_at: Option<i64>,
    /// Distinct speakers in 7 days.
    pub speakers_7d: i64,
    /// Current members.
    pub member_count: i64,
    /// The dead-group rule's silent days.
    pub silent_days: i64,
}

/// The activity band: DEAD after `silent_days` without a message (NEW while the group is younger than that
/// and silent), else by the share of members who spoke in 7 days.
pub fn activity_band(input: &BandInput) -> i32 {
    let silent_since = input.last_message_at.unwrap_or(input.created_at);
    if input.now - silent_since >= input.silent_days * DAY_MILLIS {
        return band::DEAD;
    }
    if input.last_message_at.is_none() {
        return band::NEW;
    }
    let share_bps = ratio_bps(input.speakers_7d, input.member_count);
    if share_bps < 500 {
        band::LOW
    } else if share_bps <= 2000 {
        band::MEDIUM
    } else {
        band::HIGH
    }
}

/// `part / whole` in basis points, 0 when `whole` is 0, at most 10000.
pub fn ratio_bps(part: i64, whole: i64) -> i32 {
    if whole <= 0 { 0 } else { (part.clamp(0, whole) * 10_000 / whole) as i32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_counted_in_china_time_and_round_trip() {
        // 2025-03-03T16:30:00Z is 2025-03-04 00:30 in Beijing.
        let millis = 1_741_019_400_000;
        assert_eq!(day_string(day_of(millis)), "2025-03-04");
        assert_eq!(day_string(day_of(millis - 3_600_000)), "2025-03-03");
        assert_eq!(start_of_day(day_of(millis)), 1_741_017_600_000);
        for text in ["1970-01-01", "2024-02-29", "2025-12-31"] {
            assert_eq!(day_string(parse_day(text).unwrap()), text);
        }
        for bad in ["2025-02-29", "2025-13-01", "25-01-01", "2025-1-1", "x"] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn bands_follow_silence_and_the_share_of_speakers() {
        let now = 100 * DAY_MILLIS;
        let input = BandInput {
            now,
            created_at: now - 30 * DAY_MILLIS,
            last_message_at: Some(now - DAY_MILLIS),
            speakers_7d: 1,
            member_count: 100,
            silent_days: 7,
        };
        assert_eq!(activity_band(&input), band::LOW);
        assert_eq!(activity_band(&BandInput { speakers_7d: 10, ..input }), band::MEDIUM);
        assert_eq!(activity_band(&BandInput { speakers_7d: 21, ..input }), band::HIGH);
        assert_eq!(activity_band(&BandInput { last_message_at: Some(now - 7 * DAY_MILLIS), ..input }), band::DEAD);
        assert_eq!(activity_band(&BandInput { last_message_at: None, ..input }), band::DEAD);
        let young = BandInput { last_message_at: None, created_at: now - DAY_MILLIS, ..input };
        assert_eq!(activity_band(&young), band::NEW);
        assert_eq!((ratio_bps(1, 3), ratio_bps(5, 0), ratio_bps(9, 4)), (3333, 0, 10_000));
    }
}
