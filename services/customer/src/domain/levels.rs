//! Customer levels: spend tiers and the level a lifetime spend reaches.

/// Most tiers a configuration may hold (the contract's limit).
pub const MAX_TIERS: usize = 20;
/// Longest tier name.
const MAX_NAME_CHARS: usize = 30;

/// One spend tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// Rank from 1.
    pub level: i32,
    /// Name shown to staff.
    pub name: String,
    /// Lifetime spend in fen from which a customer is at this level.
    pub min_spend_fen: i64,
}

/// Checks a tier configuration: ranks 1, 2, 3... in order, names present, thresholds strictly increasing and
/// not negative. The error names the offending field (`tiers[i].field`) and says why.
pub fn validate_tiers(tiers: &[Tier]) -> Result<(), (String, String)> {
    if tiers.len() > MAX_TIERS {
        return Err(("tiers".into(), format!("at most {MAX_TIERS} tiers, got {}", tiers.len())));
    }
    for (index, tier) in tiers.iter().enumerate() {
        let at = |field: &str| format!("tiers[{index}].{field}");
        if tier.level != index as i32 + 1 {
            return Err((at("level"), format!("levels must run 1, 2, 3...; expected {}", index + 1)));
        }
        let name_chars = tier.name.trim().chars().count();
        if name_chars == 0 || name_chars > MAX_NAME_CHARS {
            return Err((at("name"), format!("a tier name has 1 to {MAX_NAME_CHARS} characters")));
        }
        if tier.min_spend_fen < 0 {
            return Err((at("min_spend_fen"), "min_spend_fen may not be negative".into()));
        }
        if index > 0 && tier.min_spend_fen <= tiers[index - 1].min_spend_fen {
            return Err((at("min_spend_fen"), "min_spend_fen must increase strictly with the level".into()));
        }
    }
    Ok(())
}

/// The highest tier `spend_fen` reaches; `None` below the first tier (level 0). `tiers` are valid.
pub fn level_for(tiers: &[Tier], spend_fen: i64) -> Option<&Tier> {
    tiers.iter().rev().find(|tier| spend_fen >= tier.min_spend_fen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(level: i32, name: &str, min: i64) -> Tier {
        Tier { level, name: name.into(), min_spend_fen: min }
    }

    #[test]
    fn spend_reaches_the_highest_tier_at_or_below_it() {
        let tiers = [tier(1, "银卡", 10_000), tier(2, "金卡", 100_000), tier(3, "钻石", 1_000_000)];
        assert_eq!(level_for(&tiers, 0), None);
        assert_eq!(level_for(&tiers, 9_999), None);
        assert_eq!(level_for(&tiers, 10_000).map(|t| t.level), Some(1));
        assert_eq!(level_for(&tiers, 999_999).map(|t| t.name.as_str()), Some("金卡"));
        assert_eq!(level_for(&tiers, i64::MAX).map(|t| t.level), Some(3));
        assert_eq!(level_for(&[], 1_000), None);
    }

    #[test]
    fn bad_configurations_name_the_field() {
        let field = |tiers: &[Tier]| validate_tiers(tiers).unwrap_err().0;
        assert_eq!(field(&[tier(2, "银卡", 1)]), "tiers[0].level");
        assert_eq!(field(&[tier(1, " ", 1)]), "tiers[0].name");
        assert_eq!(field(&[tier(1, "银卡", -1)]), "tiers[0].min_spend_fen");
        assert_eq!(field(&[tier(1, "银卡", 10), tier(2, "金卡", 10)]), "tiers[1].min_spend_fen");
        let many: Vec<_> = (1..=21).map(|level| tier(level, "级", i64::from(level))).collect();
        assert_eq!(field(&many), "tiers");
        assert!(validate_tiers(&[]).is_ok());
        assert!(validate_tiers(&[tier(1, "银卡", 0), tier(2, "金卡", 1)]).is_ok());
    }
}
