-- Departments as read from WeCom's department/simplelist (names only when WeCom returns them).
CREATE TABLE identity_department (
    id BIGINT PRIMARY KEY,
    parent_id BIGINT NOT NULL,
    sort_order BIGINT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Staff members (成员) as read from WeCom's user/get; `fingerprint` detects unchanged rows.
CREATE TABLE identity_staff (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    userid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    department_ids TEXT NOT NULL,
    main_department BIGINT NOT NULL,
    position TEXT NOT NULL,
    mobile TEXT NOT NULL,
    gender INTEGER NOT NULL,
    email TEXT NOT NULL,
    avatar TEXT NOT NULL,
    alias TEXT NOT NULL,
    status INTEGER NOT NULL,
    external_contact_enabled INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    resigned_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX identity_staff_status ON identity_staff (status, id);

-- Sync runs: one row per StartSync that started a run.
CREATE TABLE identity_sync_run (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope INTEGER NOT NULL,
    trigger_kind INTEGER NOT NULL,
    state INTEGER NOT NULL,
    phase INTEGER NOT NULL,
    counts TEXT NOT NULL,
    api_calls BIGINT NOT NULL DEFAULT 0,
    rate_limited_calls BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    error_message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX identity_sync_run_state ON identity_sync_run (state, id);
