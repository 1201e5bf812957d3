-- Fission campaigns (PR11). body: the Campaign message without id, state and timestamps, protobuf-encoded and
-- hex-written; name, kind, state, store_id and ends_at repeat it for filtering.
CREATE TABLE campaign_campaign (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    kind INT NOT NULL,
    state INT NOT NULL,
    store_id BIGINT NOT NULL DEFAULT 0,
    ends_at BIGINT NOT NULL,
    body MEDIUMTEXT NOT NULL,
    created_by VARCHAR(64) NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    KEY campaign_campaign_state (state, ends_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Participants of a campaign (PR12): one row per person and campaign. state is their personal WeCom state.
CREATE TABLE campaign_participant (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    campaign_id BIGINT NOT NULL,
    external_userid VARCHAR(64) NOT NULL DEFAULT '',
    userid VARCHAR(64) NOT NULL DEFAULT '',
    name VARCHAR(255) NOT NULL DEFAULT '',
    avatar_url VARCHAR(1024) NOT NULL DEFAULT '',
    inviter_participant_id BIGINT NOT NULL DEFAULT 0,
    depth INT NOT NULL,
    state VARCHAR(64) NOT NULL DEFAULT '',
    link_url VARCHAR(1024) NOT NULL DEFAULT '',
    invite_count INT NOT NULL DEFAULT 0,
    valid_invite_count INT NOT NULL DEFAULT 0,
    converted_count INT NOT NULL DEFAULT 0,
    descendant_count INT NOT NULL DEFAULT 0,
    reached_stage_level INT NOT NULL DEFAULT 0,
    koc_id BIGINT NOT NULL DEFAULT 0,
    joined_at BIGINT NOT NULL,
    UNIQUE KEY campaign_participant_person (campaign_id, external_userid, userid),
    KEY campaign_participant_customer (external_userid)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Attributed entries (PR12). idempotency_key makes RecordInvitation safe to retry; existing_customer is 1 when the
-- invitee was a customer before; revoked_at is when the invitation stopped counting (LEFT or REVOKED).
CREATE TABLE campaign_invitation (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    campaign_id BIGINT NOT NULL,
    inviter_participant_id BIGINT NOT NULL DEFAULT 0,
    inviter_external_userid VARCHAR(64) NOT NULL DEFAULT '',
    invitee_external_userid VARCHAR(64) NOT NULL,
    invitee_participant_id BIGINT NOT NULL DEFAULT 0,
    depth INT NOT NULL,
    state VARCHAR(64) NOT NULL DEFAULT '',
    userid VARCHAR(64) NOT NULL DEFAULT '',
    chat_id VARCHAR(64) NOT NULL DEFAULT '',
    status INT NOT NULL,
    converted INT NOT NULL DEFAULT 0,
    converted_at BIGINT NULL,
    occurred_at BIGINT NOT NULL,
    existing_customer INT NOT NULL DEFAULT 0,
    revoked_at BIGINT NULL,
    idempotency_key VARCHAR(255) NOT NULL,
    note VARCHAR(1024) NOT NULL DEFAULT '',
    UNIQUE KEY campaign_invitation_idempotency (idempotency_key),
    KEY campaign_invitation_campaign (campaign_id, invitee_external_userid)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- KOC profiles (PR14). person: `c:<external_userid>` or `s:<userid>`, one profile per person. chat_ids
-- comma-joined.
CREATE TABLE campaign_koc_profile (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind INT NOT NULL,
    person VARCHAR(80) NOT NULL,
    external_userid VARCHAR(64) NOT NULL DEFAULT '',
    userid VARCHAR(64) NOT NULL DEFAULT '',
    name VARCHAR(255) NOT NULL DEFAULT '',
    avatar_url VARCHAR(1024) NOT NULL DEFAULT '',
    chat_ids TEXT NOT NULL,
    status INT NOT NULL,
    store_id BIGINT NOT NULL DEFAULT 0,
    koc_system_id VARCHAR(64) NOT NULL DEFAULT '',
    note VARCHAR(2048) NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY campaign_koc_profile_person (person)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
