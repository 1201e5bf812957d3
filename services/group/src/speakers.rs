//! Distinct speakers per group and day for the rolling 1/7/30-day figures: exact from the database in the
//! embedded default, HyperLogLog sketches in Redis (`group:speakers:{chat_id}:{day}` under the cache prefix)
//! when the deployment has one.

use std::sync::Arc;
use std::time::Duration;

use scrm_cache::HyperLogLog;

/// How long a day's sketch is kept after its last write: past the 30-day window.
const SKETCH_TTL: Duration = Duration::from_secs(35 * 24 * 60 * 60);

/// The rolling windows, in days, of the speaker figures.
const WINDOWS: [i64; 3] = [1, 7, 30];

/// Where distinct speakers are counted; chosen when the service is built.
#[derive(Debug, Clone, Default)]
pub enum SpeakerCounter {
    /// Exact, from the `group_speaker_day` table.
    #[default]
    Exact,
    /// Estimated from HyperLogLog sketches per group and day.
    Approximate(Arc<dyn HyperLogLog>),
}

/// The sketch key of `chat_id`'s speakers on `day`.
fn day_key(chat_id: &str, day: i64) -> String {
    format!("group:speakers:{chat_id}:{day}")
}

impl SpeakerCounter {
    /// Counts from `cache`'s HyperLogLog sketches when it has them, exactly otherwise.
    pub fn for_cache(cache: Arc<dyn scrm_cache::Cache>) -> Self {
        cache.hyperloglog().map_or(SpeakerCounter::Exact, SpeakerCounter::Approximate)
    }

    /// Whether the figures are estimates.
    pub fn approximate(&self) -> bool {
        matches!(self, SpeakerCounter::Approximate(_))
    }

    /// Adds the speakers of a batch, `(chat_id, day, sender)`, to the day sketches; a no-op when exact (the
    /// database rows are the count). A Redis failure is logged: the stored messages stay counted exactly.
    pub async fn record<'a>(&self, speakers: impl Iterator<Item = (&'a str, i64, &'a str)>) {
        let SpeakerCounter::Approximate(sketches) = self else { return };
        let mut entries: Vec<(String, Vec<String>)> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (chat_id, day, sender) in speakers {
            let at = *index.entry(day_key(chat_id, day)).or_insert_with_key(|key| {
                entries.push((key.clone(), Vec::new()));
                entries.len() - 1
            });
            entries[at].1.push(sender.to_owned());
        }
        if let Err(error) = sketches.add(&entries, SKETCH_TTL).await {
            tracing::warn!(%error, "group speakers: cannot add to the HyperLogLog sketches");
        }
    }

    /// The estimated 1/7/30-day distinct speakers of each of `chat_ids` as of `today`; `None` when exact or when
    /// Redis fails (the caller then counts from the database).
    pub async fn rolling(&self, chat_ids: &[String], today: i64) -> Option<Vec<[i64; 3]>> {
        let SpeakerCounter::Approximate(sketches) = self else { return None };
        let unions: Vec<Vec<String>> = chat_ids
            .iter()
            .flat_map(|chat_id| {
                WINDOWS.map(|span| (today - span + 1..=today).map(|day| day_key(chat_id, day)).collect())
            })
            .collect();
        match sketches.count(&unions).await {
            Ok(counts) => Some(counts.chunks_exact(WINDOWS.len()).map(|c| [c[0], c[1], c[2]]).collect()),
            Err(error) => {
                tracing::warn!(%error, "group speakers: cannot count the HyperLogLog sketches");
                None
            }
        }
    }
}
