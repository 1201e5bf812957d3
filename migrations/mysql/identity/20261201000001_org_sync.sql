-- Departments as read from WeCom's department/simplelist (names only when WeCom returns them).
CREATE TABLE identity_department (
    id BIGINT NOT NULL PRIMARY KEY,
    parent_id BIGINT NOT NULL,
    sort_order BIGINT NOT NULL,
    name VARCHAR(255) NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Staff members (成员) as read from WeCom's user/get; `fingerprint` detects unchanged rows.
CREATE TABLE identity_staff (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    userid VARCHAR(64) NOT NULL,
    name VARCHAR(255) NOT NULL,
    department_ids VARCHAR(1024) NOT NULL,
    main_department BIGINT NOT NULL,
    position VARCHAR(255) NOT NULL,
    mobile VARCHAR(64) NOT NULL,
    gender INT NOT NULL,
    email VARCHAR(255) NOT NULL,
    avatar VARCHAR(1024) NOT NULL,
    alias VARCHAR(255) NOT NULL,
    status INT NOT NULL,
    external_contact_enabled INT NOT NULL,
    fingerprint VARCHAR(32) NOT NULL,
    resigned_at BIGINT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY identity_staff_userid (userid),
    KEY identity_staff_status (status, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Sync runs: one row per StartSync that started a run.
CREATE TABLE identity_sync_run (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    scope INT NOT NULL,
    trigger_kind INT NOT NULL,
    state INT NOT NULL,
    phase INT NOT NULL,
    counts TEXT NOT NULL,
    api_calls BIGINT NOT NULL DEFAULT 0,
    rate_limited_calls BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NULL,
    error_message TEXT NOT NULL,
    KEY identity_sync_run_state (state, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
