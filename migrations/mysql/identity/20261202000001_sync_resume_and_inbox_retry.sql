-- Sync runs checkpoint where they are inside their phase, and count how often a crash made them resume.
ALTER TABLE identity_sync_run ADD COLUMN checkpoint VARCHAR(255) NOT NULL DEFAULT '';
ALTER TABLE identity_sync_run ADD COLUMN resume_count INT NOT NULL DEFAULT 0;

-- Inbox events that failed wait until `next_attempt_at` (Unix milliseconds) before the next attempt.
ALTER TABLE identity_callback_inbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
