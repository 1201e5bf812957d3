//! Participants and invitations (PR12): recording an attributed entry in one transaction, and reading them back.

use scrm_kernel::StoreScope;
use scrm_proto::campaign::v1::{Campaign, InvitationStatus, ParticipantOrder};
use sqlx::{AnyConnection, FromRow, QueryBuilder};

use super::{CampaignStore, push_scope};
use crate::domain::{EntryFacts, creates_participant, invitation_status, personal_link, personal_state, reached_stage};

/// A participant as stored, with its campaign's name.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct ParticipantRow {
    /// scrm id.
    pub id: i64,
    /// The campaign.
    pub campaign_id: i64,
    /// The campaign's name (joined on read).
    pub campaign_name: String,
    /// Customer participant's external_userid; empty for staff.
    pub external_userid: String,
    /// Staff participant's userid; empty for customers.
    pub userid: String,
    /// Nickname.
    pub name: String,
    /// Avatar URL.
    pub avatar_url: String,
    /// Inviter; 0 for a seed.
    pub inviter_participant_id: i64,
    /// Level: 1 for a seed.
    pub depth: i32,
    /// Personal WeCom state.
    pub state: String,
    /// Personal link.
    pub link_url: String,
    /// Invitations recorded with this inviter.
    pub invite_count: i32,
    /// Of those, the ones counted.
    pub valid_invite_count: i32,
    /// Invitees who converted.
    pub converted_count: i32,
    /// Participants below in the tree.
    pub descendant_count: i32,
    /// Highest stage reached.
    pub reached_stage_level: i32,
    /// KOC profile id; 0 when not a KOC.
    pub koc_id: i64,
    /// Creation (Unix ms).
    pub joined_at: i64,
}

/// An invitation as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct InvitationRow {
    /// scrm id.
    pub id: i64,
    /// The campaign.
    pub campaign_id: i64,
    /// Inviting participant; 0 through the base channel.
    pub inviter_participant_id: i64,
    /// Inviter's external_userid when a customer.
    pub inviter_external_userid: String,
    /// The invitee.
    pub invitee_external_userid: String,
    /// The invitee's participant; 0 when none was created.
    pub invitee_participant_id: i64,
    /// The invitee's level.
    pub depth: i32,
    /// WeCom state the invitee came through.
    pub state: String,
    /// Staff member added (contact ways).
    pub userid: String,
    /// Group joined (join ways).
    pub chat_id: String,
    /// InvitationStatus.
    pub status: i32,
    /// 1 when converted.
    pub converted: i32,
    /// Conversion time (Unix ms).
    pub converted_at: Option<i64>,
    /// Entry time (Unix ms).
    pub occurred_at: i64,
}

/// An attributed entry to record.
#[derive(Debug, Clone, Default)]
pub struct NewEntry {
    /// The campaign, as stored.
    pub campaign: Campaign,
    /// The inviting participant; 0 through the base channel.
    pub inviter_participant_id: i64,
    /// The invitee's external_userid.
    pub invitee: String,
    /// WeCom state of the code used; empty by link.
    pub state: String,
    /// Staff member added.
    pub userid: String,
    /// Group joined.
    pub chat_id: String,
    /// Whether the invitee was a customer before.
    pub existing_customer: bool,
    /// Entry time (Unix ms).
    pub occurred_at: i64,
    /// Retry key.
    pub idempotency_key: String,
    /// The campaign's landing page, for the new participant's personal link.
    pub landing_url: String,
}

/// A recorded entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEntry {
    /// The invitation.
    pub invitation: InvitationRow,
    /// The inviter after it; `None` through the base channel.
    pub inviter: Option<ParticipantRow>,
    /// Stage level newly reached by the inviter; 0 when none.
    pub reached_stage_level: i32,
}

/// What recording an entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    /// The entry was recorded (or had been, under the same key).
    Recorded(Box<RecordedEntry>),
    /// The inviter is not a participant of the campaign.
    UnknownInviter,
}

/// What campaign statistics need of a participant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow)]
pub struct ParticipantFacts {
    /// Level.
    pub depth: i32,
    /// Highest stage reached.
    pub reached_stage_level: i32,
    /// Creation (Unix ms).
    pub joined_at: i64,
}

/// What campaign statistics need of an invitation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow)]
pub struct InvitationFacts {
    /// The invitee's level.
    pub depth: i32,
    /// InvitationStatus.
    pub status: i32,
    /// 1 when the invitee was a customer before.
    pub existing_customer: i32,
    /// 1 when converted.
    pub converted: i32,
    /// Entry time (Unix ms).
    pub occurred_at: i64,
    /// When it stopped counting (Unix ms).
    pub revoked_at: Option<i64>,
}

/// Filters of ListParticipants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParticipantFilter {
    /// Only this campaign (0: every campaign, with `external_userid`).
    pub campaign_id: i64,
    /// Only this level (0: any).
    pub depth: i32,
    /// Only participants at or above this stage (0: any).
    pub min_stage_level: i32,
    /// Only this customer.
    pub external_userid: String,
}

const PARTICIPANT_COLUMNS: &str = "p.id, p.campaign_id, c.name AS campaign_name, p.external_userid, p.userid, \
     p.name, p.avatar_url, p.inviter_participant_id, p.depth, p.state, p.link_url, p.invite_count, \
     p.valid_invite_count, p.converted_count, p.descendant_count, p.reached_stage_level, p.koc_id, p.joined_at \
     FROM campaign_participant p JOIN campaign_campaign c ON c.id = p.campaign_id";

const INVITATION_COLUMNS: &str = "id, campaign_id, inviter_participant_id, inviter_external_userid, \
     invitee_external_userid, invitee_participant_id, depth, state, userid, chat_id, status, converted, \
     converted_at, occurred_at FROM campaign_invitation";

/// Most ancestors walked when counting descendants (a guard against a corrupt cycle).
const MAX_ANCESTORS: usize = 10_000;

impl CampaignStore {
    /// Records an entry in one transaction: the invitation, the invitee's participant when the entry makes one,
    /// and the inviter's counts, stage and ancestors' subtree sizes. A retry under the same idempotency key
    /// returns the first result and changes nothing.
    pub async fn record_entry(&self, entry: &NewEntry) -> Result<EntryOutcome, sqlx::Error> {
        let mut tries = 0;
        loop {
            match self.try_record_entry(entry).await {
                Err(sqlx::Error::Database(error)) if tries < 3 && error.is_unique_violation() => tries += 1,
                result => return result,
            }
        }
    }

    async fn try_record_entry(&self, entry: &NewEntry) -> Result<EntryOutcome, sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        if let Some(invitation) = invitation_by_key(&mut tx, &entry.idempotency_key).await? {
            let inviter = participant(&mut tx, invitation.inviter_participant_id).await?;
            tx.commit().await?;
            return Ok(EntryOutcome::Recorded(Box::new(RecordedEntry { invitation, inviter, reached_stage_level: 0 })));
        }
        let campaign = &entry.campaign;
        let inviter = match entry.inviter_participant_id {
            0 => None,
            id => match participant(&mut tx, id).await?.filter(|inviter| inviter.campaign_id == campaign.id) {
                Some(inviter) => Some(inviter),
                None => return Ok(EntryOutcome::UnknownInviter),
            },
        };
        let already: Option<i64> =
            sqlx::query_scalar("SELECT id FROM campaign_participant WHERE campaign_id = ? AND external_userid = ?")
                .bind(campaign.id)
                .bind(&entry.invitee)
                .fetch_optional(&mut *tx)
                .await?;
        let invite_reward = match &campaign.settings {
            Some(scrm_proto::campaign::v1::campaign::Settings::InviteReward(settings)) => Some(settings),
            _ => None,
        };
        let inviter_depth = inviter.as_ref().map_or(0, |inviter| inviter.depth);
        let status = invitation_status(EntryFacts {
            already_participant: already.is_some(),
            self_invite: inviter.as_ref().is_some_and(|inviter| inviter.external_userid == entry.invitee),
            inviter_depth,
            max_depth: campaign.max_depth,
            existing_customer: entry.existing_customer,
            new_customers_only: invite_reward.is_some_and(|settings| settings.new_customers_only),
            has_min_stay: invite_reward
                .and_then(|settings| settings.min_stay.as_ref())
                .is_some_and(|stay| stay.seconds > 0 || stay.nanos > 0),
        });
        let depth = inviter_depth + 1;
        let invitee_participant_id = if creates_participant(status) {
            sqlx::query(
                "INSERT INTO campaign_participant (campaign_id, external_userid, userid, inviter_participant_id, \
                 depth, joined_at) VALUES (?, ?, '', ?, ?, ?)",
            )
            .bind(campaign.id)
            .bind(&entry.invitee)
            .bind(entry.inviter_participant_id)
            .bind(depth)
            .bind(entry.occurred_at)
            .execute(&mut *tx)
            .await?;
            let id = self.last_insert_id(&mut tx).await?;
            let state = personal_state(campaign.id, id);
            sqlx::query("UPDATE campaign_participant SET state = ?, link_url = ? WHERE id = ?")
                .bind(&state)
                .bind(personal_link(&entry.landing_url, &state))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            id
        } else {
            already.unwrap_or(0)
        };
        sqlx::query(
            "INSERT INTO campaign_invitation (campaign_id, inviter_participant_id, inviter_external_userid, \
             invitee_external_userid, invitee_participant_id, depth, state, userid, chat_id, status, occurred_at, \
             existing_customer, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(campaign.id)
        .bind(entry.inviter_participant_id)
        .bind(inviter.as_ref().map(|inviter| inviter.external_userid.clone()).unwrap_or_default())
        .bind(&entry.invitee)
        .bind(invitee_participant_id)
        .bind(depth)
        .bind(&entry.state)
        .bind(&entry.userid)
        .bind(&entry.chat_id)
        .bind(status as i32)
        .bind(entry.occurred_at)
        .bind(i32::from(entry.existing_customer))
        .bind(&entry.idempotency_key)
        .execute(&mut *tx)
        .await?;
        let mut newly_reached = 0;
        if let Some(inviter) = &inviter {
            let valid = inviter.valid_invite_count + i32::from(status == InvitationStatus::Valid);
            let reached = reached_stage(&campaign.stages, valid).max(inviter.reached_stage_level);
            if reached > inviter.reached_stage_level {
                newly_reached = reached;
            }
            sqlx::query(
                "UPDATE campaign_participant SET invite_count = invite_count + 1, valid_invite_count = ?, \
                 reached_stage_level = ? WHERE id = ?",
            )
            .bind(valid)
            .bind(reached)
            .bind(inviter.id)
            .execute(&mut *tx)
            .await?;
            if creates_participant(status) {
                count_descendant(&mut tx, inviter.id).await?;
            }
        }
        let invitation = invitation_by_key(&mut tx, &entry.idempotency_key).await?.ok_or(sqlx::Error::RowNotFound)?;
        let inviter = match &inviter {
            Some(inviter) => participant(&mut tx, inviter.id).await?,
            None => None,
        };
        tx.commit().await?;
        Ok(EntryOutcome::Recorded(Box::new(RecordedEntry { invitation, inviter, reached_stage_level: newly_reached })))
    }

    /// Invitation `id`; `None` when unknown.
    pub async fn invitation(&self, id: i64) -> Result<Option<InvitationRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {INVITATION_COLUMNS} WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// The invitations that brought `invitee` in, in campaign `campaign_id` (0: every campaign), oldest first.
    pub async fn invitations_of(&self, campaign_id: i64, invitee: &str) -> Result<Vec<InvitationRow>, sqlx::Error> {
        let mut query = QueryBuilder::new(format!("SELECT {INVITATION_COLUMNS} WHERE invitee_external_userid = "));
        query.push_bind(invitee.to_owned());
        if campaign_id != 0 {
            query.push(" AND campaign_id = ").push_bind(campaign_id);
        }
        query.push(" ORDER BY id");
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Stops invitation `id` counting (status `to`, LEFT or REVOKED, with `note`) if it counts or waits to: a
    /// VALID one no longer counts toward its inviter's stages (stages reached stay reached). Returns the
    /// invitation as revoked; `None` when it did not count anyway.
    pub async fn revoke_invitation(
        &self,
        id: i64,
        to: InvitationStatus,
        note: &str,
        now: i64,
    ) -> Result<Option<InvitationRow>, sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        let current: Option<InvitationRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {INVITATION_COLUMNS} WHERE id = ?")))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(current) = current else { return Ok(None) };
        let was = InvitationStatus::try_from(current.status).unwrap_or(InvitationStatus::Unspecified);
        if !matches!(was, InvitationStatus::Valid | InvitationStatus::Pending) {
            return Ok(None);
        }
        sqlx::query("UPDATE campaign_invitation SET status = ?, note = ?, revoked_at = ? WHERE id = ? AND status = ?")
            .bind(to as i32)
            .bind(note)
            .bind(now)
            .bind(id)
            .bind(current.status)
            .execute(&mut *tx)
            .await?;
        if was == InvitationStatus::Valid && current.inviter_participant_id != 0 {
            sqlx::query(
                "UPDATE campaign_participant SET valid_invite_count = valid_invite_count - 1 \
                 WHERE id = ? AND valid_invite_count > 0",
            )
            .bind(current.inviter_participant_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(InvitationRow { status: to as i32, ..current }))
    }

    /// The figures GetCampaignStats aggregates: every participant and invitation of campaign `campaign_id`.
    pub async fn stats_rows(
        &self,
        campaign_id: i64,
    ) -> Result<(Vec<ParticipantFacts>, Vec<InvitationFacts>), sqlx::Error> {
        let participants = sqlx::query_as(
            "SELECT depth, reached_stage_level, joined_at FROM campaign_participant WHERE campaign_id = ?",
        )
        .bind(campaign_id)
        .fetch_all(self.db.pool())
        .await?;
        let invitations = sqlx::query_as(
            "SELECT depth, status, existing_customer, converted, occurred_at, revoked_at FROM campaign_invitation \
             WHERE campaign_id = ?",
        )
        .bind(campaign_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok((participants, invitations))
    }

    /// Participant `id`; `None` when unknown.
    pub async fn participant(&self, id: i64) -> Result<Option<ParticipantRow>, sqlx::Error> {
        let mut connection = self.db.pool().acquire().await?;
        participant(&mut connection, id).await
    }

    /// One page of participants matching `filter` within `scope`, at `offset`, and how many match in all.
    pub async fn list_participants(
        &self,
        filter: &ParticipantFilter,
        scope: &StoreScope,
        order: ParticipantOrder,
        offset: i64,
        limit: u32,
    ) -> Result<(Vec<ParticipantRow>, i64), sqlx::Error> {
        let push_filter = |query: &mut QueryBuilder<sqlx::Any>| {
            if filter.campaign_id != 0 {
                query.push(" AND p.campaign_id = ").push_bind(filter.campaign_id);
            }
            if filter.depth != 0 {
                query.push(" AND p.depth = ").push_bind(filter.depth);
            }
            if filter.min_stage_level != 0 {
                query.push(" AND p.reached_stage_level >= ").push_bind(filter.min_stage_level);
            }
            if !filter.external_userid.is_empty() {
                query.push(" AND p.external_userid = ").push_bind(filter.external_userid.clone());
            }
            push_scope(query, "c.store_id", scope);
        };
        let mut query = QueryBuilder::new(format!("SELECT {PARTICIPANT_COLUMNS} WHERE 1 = 1"));
        push_filter(&mut query);
        query.push(match order {
            ParticipantOrder::ValidInvitesDesc => " ORDER BY p.valid_invite_count DESC, p.id DESC",
            ParticipantOrder::DescendantsDesc => " ORDER BY p.descendant_count DESC, p.id DESC",
            ParticipantOrder::Unspecified | ParticipantOrder::JoinedDesc => " ORDER BY p.joined_at DESC, p.id DESC",
        });
        query.push(" LIMIT ").push_bind(i64::from(limit)).push(" OFFSET ").push_bind(offset);
        let rows: Vec<ParticipantRow> = query.build_query_as().fetch_all(self.db.pool()).await?;
        if let Some(total) = scrm_kernel::paging::total_of_last_page(offset, rows.len(), limit) {
            return Ok((rows, total));
        }
        let mut count = QueryBuilder::new(
            "SELECT COUNT(*) FROM campaign_participant p JOIN campaign_campaign c ON c.id = p.campaign_id WHERE 1 = 1",
        );
        push_filter(&mut count);
        let total: i64 = count.build_query_scalar().fetch_one(self.db.pool()).await?;
        Ok((rows, total))
    }
}

async fn participant(connection: &mut AnyConnection, id: i64) -> Result<Option<ParticipantRow>, sqlx::Error> {
    if id == 0 {
        return Ok(None);
    }
    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {PARTICIPANT_COLUMNS} WHERE p.id = ?")))
        .bind(id)
        .fetch_optional(connection)
        .await
}

async fn invitation_by_key(connection: &mut AnyConnection, key: &str) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {INVITATION_COLUMNS} WHERE idempotency_key = ?")))
        .bind(key)
        .fetch_optional(connection)
        .await
}

/// Adds one descendant to participant `id` and every participant above it.
async fn count_descendant(connection: &mut AnyConnection, mut id: i64) -> Result<(), sqlx::Error> {
    for _ in 0..MAX_ANCESTORS {
        if id == 0 {
            break;
        }
        sqlx::query("UPDATE campaign_participant SET descendant_count = descendant_count + 1 WHERE id = ?")
            .bind(id)
            .execute(&mut *connection)
            .await?;
        id = sqlx::query_scalar("SELECT inviter_participant_id FROM campaign_participant WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *connection)
            .await?
            .unwrap_or(0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use scrm_proto::campaign::v1::campaign::Settings;
    use scrm_proto::campaign::v1::{InviteRewardSettings, LifecycleState};
    use scrm_storage::Db;

    use super::*;
    use crate::store::tests::draft;

    fn entry(campaign: &Campaign, inviter: i64, invitee: &str, key: &str) -> NewEntry {
        NewEntry {
            campaign: campaign.clone(),
            inviter_participant_id: inviter,
            invitee: invitee.into(),
            state: personal_state(campaign.id, inviter),
            userid: "zhangsan".into(),
            occurred_at: 1_850_000_000_000,
            idempotency_key: key.into(),
            landing_url: format!("https://scrm.example.com/campaign/{}", campaign.id),
            ..NewEntry::default()
        }
    }

    fn recorded(outcome: EntryOutcome) -> (InvitationRow, Option<ParticipantRow>, i32) {
        match outcome {
            EntryOutcome::Recorded(entry) => (entry.invitation, entry.inviter, entry.reached_stage_level),
            EntryOutcome::UnknownInviter => panic!("the inviter is known"),
        }
    }

    async fn entries_build_the_tree_count_and_reach_stages(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = CampaignStore::new(db);
        let mut campaign = draft("邀请好友得盲盒", 7);
        campaign.settings = Some(Settings::InviteReward(InviteRewardSettings {
            new_customers_only: true,
            ..InviteRewardSettings::default()
        }));
        let mut campaign = store.insert_campaign(&campaign, 1).await.unwrap();
        campaign.state = LifecycleState::Active as i32;

        let (seed_entry, inviter, _) =
            recorded(store.record_entry(&entry(&campaign, 0, "wmSeed", "k1")).await.unwrap());
        assert_eq!((seed_entry.status, seed_entry.depth, inviter), (InvitationStatus::Valid as i32, 1, None));
        let seed = store.participant(seed_entry.invitee_participant_id).await.unwrap().unwrap();
        assert_eq!(seed.state, format!("f{}-{}", campaign.id, seed.id));
        assert_eq!(seed.link_url, format!("https://scrm.example.com/campaign/{}?state={}", campaign.id, seed.state));
        assert_eq!(seed.campaign_name, "邀请好友得盲盒");

        let (first, inviter, reached) =
            recorded(store.record_entry(&entry(&campaign, seed.id, "wmFriend", "k2")).await.unwrap());
        assert_eq!((first.status, first.depth, reached), (InvitationStatus::Valid as i32, 2, 1));
        let inviter = inviter.unwrap();
        assert_eq!((inviter.invite_count, inviter.valid_invite_count, inviter.reached_stage_level), (1, 1, 1));
        let retried = recorded(store.record_entry(&entry(&campaign, seed.id, "wmFriend", "k2")).await.unwrap());
        assert_eq!(retried.0, first, "a retry records nothing more");
        assert_eq!(retried.1.unwrap().invite_count, 1);

        let (again, _, _) = recorded(store.record_entry(&entry(&campaign, seed.id, "wmFriend", "k3")).await.unwrap());
        assert_eq!(again.status, InvitationStatus::Duplicate as i32);
        let (own, _, _) = recorded(store.record_entry(&entry(&campaign, seed.id, "wmSeed", "k4")).await.unwrap());
        assert_eq!(own.status, InvitationStatus::Self_ as i32);
        let old = NewEntry { existing_customer: true, ..entry(&campaign, seed.id, "wmOld", "k5") };
        let (old, inviter, _) = recorded(store.record_entry(&old).await.unwrap());
        assert_eq!(old.status, InvitationStatus::NotNew as i32);
        assert_eq!(inviter.unwrap().valid_invite_count, 1, "an old customer does not count");
        let (deep, _, _) = recorded(
            store.record_entry(&entry(&campaign, first.invitee_participant_id, "wmDeep", "k6")).await.unwrap(),
        );
        assert_eq!(deep.depth, 3);
        let seed = store.participant(seed.id).await.unwrap().unwrap();
        assert_eq!((seed.invite_count, seed.descendant_count), (4, 3), "friend, old customer and the friend's friend");
        assert_eq!(
            store.record_entry(&entry(&campaign, 9_999, "wmX", "k7")).await.unwrap(),
            EntryOutcome::UnknownInviter
        );

        let for_friend = ParticipantFilter { external_userid: "wmFriend".into(), ..ParticipantFilter::default() };
        let (rows, total) =
            store.list_participants(&for_friend, &StoreScope::All, ParticipantOrder::Unspecified, 0, 20).await.unwrap();
        assert_eq!((rows.len(), total, rows[0].campaign_name.as_str()), (1, 1, "邀请好友得盲盒"));
        let elsewhere = StoreScope::Only(vec!["8".into()]);
        let (rows, total) =
            store.list_participants(&for_friend, &elsewhere, ParticipantOrder::Unspecified, 0, 20).await.unwrap();
        assert_eq!((rows.len(), total), (0, 0), "a store-7 campaign is hidden from store 8");
        let all = ParticipantFilter { campaign_id: campaign.id, ..ParticipantFilter::default() };
        let (rows, total) =
            store.list_participants(&all, &StoreScope::All, ParticipantOrder::DescendantsDesc, 0, 2).await.unwrap();
        assert_eq!((rows[0].id, rows.len(), total), (seed.id, 2, 4));
        assert_eq!(store.stage_reach(campaign.id).await.unwrap(), [(1, 2)], "the seed and the friend");

        let friend_entries = store.invitations_of(0, "wmFriend").await.unwrap();
        assert_eq!(friend_entries.iter().map(|row| row.id).collect::<Vec<_>>(), [first.id, again.id]);
        let revoked = store.revoke_invitation(first.id, InvitationStatus::Revoked, "刷单", 9).await.unwrap().unwrap();
        assert_eq!(revoked.status, InvitationStatus::Revoked as i32);
        assert_eq!(store.invitation(first.id).await.unwrap().unwrap().status, InvitationStatus::Revoked as i32);
        let seed = store.participant(seed.id).await.unwrap().unwrap();
        assert_eq!((seed.valid_invite_count, seed.reached_stage_level), (0, 1), "the stage stays reached");
        assert_eq!(store.revoke_invitation(first.id, InvitationStatus::Left, "", 9).await.unwrap(), None);
        assert_eq!(store.revoke_invitation(again.id, InvitationStatus::Left, "", 9).await.unwrap(), None);
    }

    scrm_storage::store_test_suite!(entries_build_the_tree_count_and_reach_stages);
}
