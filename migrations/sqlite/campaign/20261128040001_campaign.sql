-- Fission campaigns (PR11). body: the Campaign message without id, state and timestamps, protobuf-encoded and
-- hex-written; name, kind, state, store_id and ends_at repeat it for filtering.
CREATE TABLE campaign_campaign (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    state INTEGER NOT NULL,
    store_id BIGINT NOT NULL DEFAULT 0,
    ends_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX campaign_campaign_state ON campaign_campaign (state, ends_at);

-- Participants of a campaign (PR12): one row per person and campaign. state is their personal WeCom state.
CREATE TABLE campaign_participant (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL,
    external_userid TEXT NOT NULL DEFAULT '',
    userid TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    avatar_url TEXT NOT NULL DEFAULT '',
    inviter_participant_id BIGINT NOT NULL DEFAULT 0,
    depth INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT '',
    link_url TEXT NOT NULL DEFAULT '',
    invite_count INTEGER NOT NULL DEFAULT 0,
    valid_invite_count INTEGER NOT NULL DEFAULT 0,
    converted_count INTEGER NOT NULL DEFAULT 0,
    descendant_count INTEGER NOT NULL DEFAULT 0,
    reached_stage_level INTEGER NOT NULL DEFAULT 0,
    koc_id BIGINT NOT NULL DEFAULT 0,
    joined_at BIGINT NOT NULL,
    UNIQUE (campaign_id, external_userid, userid)
);
CREATE INDEX campaign_participant_customer ON campaign_participant (external_userid);

-- Attributed entries (PR12). idempotency_key makes RecordInvitation safe to retry; existing_customer is 1 when the
-- invitee was a customer before; revoked_at is when the invitation stopped counting (LEFT or REVOKED).
CREATE TABLE campaign_invitation (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL,
    inviter_participant_id BIGINT NOT NULL DEFAULT 0,
    inviter_external_userid TEXT NOT NULL DEFAULT '',
    invitee_external_userid TEXT NOT NULL,
    invitee_participant_id BIGINT NOT NULL DEFAULT 0,
    depth INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT '',
    userid TEXT NOT NULL DEFAULT '',
    chat_id TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL,
    converted INTEGER NOT NULL DEFAULT 0,
    converted_at BIGINT NULL,
    occurred_at BIGINT NOT NULL,
    existing_customer INTEGER NOT NULL DEFAULT 0,
    revoked_at BIGINT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX campaign_invitation_campaign ON campaign_invitation (campaign_id, invitee_external_userid);

-- KOC profiles (PR14). person: `c:<external_userid>` or `s:<userid>`, one profile per person. chat_ids
-- comma-joined.
CREATE TABLE campaign_koc_profile (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind INTEGER NOT NULL,
    person TEXT NOT NULL UNIQUE,
    external_userid TEXT NOT NULL DEFAULT '',
    userid TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    avatar_url TEXT NOT NULL DEFAULT '',
    chat_ids TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL,
    store_id BIGINT NOT NULL DEFAULT 0,
    koc_system_id TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
