-- Floodgate schema, SQLite flavour. Keep equivalent to migrations/postgres/0001_initial.sql.
-- Descriptive times are RFC 3339 TEXT (sqlx chrono); times the engine schedules on are *_ms integers.
-- Status columns are TEXT with CHECK constraints; messages also carry status_rank so that
-- "only move forward" is a single comparison inside the UPDATE.

-- A leader's audience. A community is found by the number a member texts, so join_keyword
-- need not be unique across communities.
CREATE TABLE communities (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL,
    join_keyword      TEXT    NOT NULL,
    welcome_reply     TEXT    NOT NULL,
    help_reply        TEXT    NOT NULL,
    stop_reply        TEXT    NOT NULL,
    daily_message_cap INTEGER CHECK (daily_message_cap IS NULL OR daily_message_cap > 0),
    created_at        TEXT    NOT NULL
);

-- A number we send from; each belongs to exactly one community.
CREATE TABLE sender_numbers (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities (id),
    carrier         TEXT    NOT NULL,
    number          TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL CHECK (kind IN ('long_code', 'toll_free', 'short_code')),
    rate_per_second REAL    CHECK (rate_per_second IS NULL OR rate_per_second > 0)
);
CREATE INDEX sender_numbers_by_community ON sender_numbers (community_id);

-- Only a hash of the secret is stored; the prefix finds the row.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities (id),
    prefix       TEXT    NOT NULL UNIQUE,
    hash         TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    revoked_at   TEXT
);

-- Every text a member sent us, exactly once per carrier message id.
CREATE TABLE inbound_messages (
    id                  INTEGER PRIMARY KEY,
    community_id        INTEGER NOT NULL REFERENCES communities (id),
    carrier             TEXT    NOT NULL,
    provider_message_id TEXT    NOT NULL,
    from_number         TEXT    NOT NULL,
    to_number           TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    keyword             TEXT,
    received_at         TEXT    NOT NULL,
    UNIQUE (carrier, provider_message_id)
);
CREATE INDEX inbound_messages_by_community ON inbound_messages (community_id, id);

-- One row per (community, phone), including people who only ever said STOP: that row is
-- what keeps a later import from subscribing them again (subscribed_at is then NULL).
CREATE TABLE members (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities (id),
    phone           TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('subscribed', 'unsubscribed')),
    subscribed_at   TEXT,
    unsubscribed_at TEXT,
    joined_via      TEXT    NOT NULL CHECK (joined_via IN ('keyword', 'import', 'api')),
    via_number      TEXT,
    via_inbound_id  INTEGER REFERENCES inbound_messages (id),
    UNIQUE (community_id, phone)
);
CREATE INDEX members_keyset ON members (community_id, status, id);
CREATE INDEX members_by_community ON members (community_id, id);

-- A leader's request to text every subscribed member; fan-out resumes after fanout_cursor.
CREATE TABLE broadcasts (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities (id),
    body            TEXT    NOT NULL,
    encoding        TEXT    NOT NULL CHECK (encoding IN ('gsm7', 'ucs2')),
    segments        INTEGER NOT NULL CHECK (segments > 0),
    status          TEXT    NOT NULL
        CHECK (status IN ('scheduled', 'fanning_out', 'sending', 'completed', 'cancelled')),
    idempotency_key TEXT,
    request_hash    TEXT,
    recipients      INTEGER NOT NULL DEFAULT 0,
    fanout_cursor   INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT    NOT NULL,
    send_at_ms      INTEGER NOT NULL,
    started_at      TEXT,
    completed_at    TEXT,
    cancelled_at    TEXT,
    UNIQUE (community_id, idempotency_key)
);
CREATE INDEX broadcasts_by_community ON broadcasts (community_id, id);
CREATE INDEX broadcasts_due ON broadcasts (status, send_at_ms);

-- One outbound SMS. Broadcast rows leave body NULL (the text lives once on the broadcast;
-- a million copies would dominate the table); transactional rows carry their own body.
-- No foreign keys here, on purpose: per-row referential checks were two thirds of the time
-- to insert a 1M-recipient fan-out on PostgreSQL (26 s vs 9 s). The store's only writers check
-- the references (the fan-out insert locks its broadcast row, scoped by community, in the same
-- transaction; member ids come from `members`), and nothing deletes communities, broadcasts
-- or members.
CREATE TABLE messages (
    id                  INTEGER PRIMARY KEY,
    community_id        INTEGER NOT NULL,
    broadcast_id        INTEGER,
    member_id           INTEGER,
    to_number           TEXT    NOT NULL,
    from_number         TEXT,
    carrier             TEXT    NOT NULL,
    body                TEXT,
    priority            TEXT    NOT NULL CHECK (priority IN ('transactional', 'broadcast')),
    status              TEXT    NOT NULL CHECK (status IN
        ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled')),
    status_rank         INTEGER NOT NULL CHECK (status_rank BETWEEN 0 AND 3),
    provider_message_id TEXT,
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_error_code     TEXT,
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    sent_at             TEXT,
    delivered_at        TEXT,
    CHECK ((broadcast_id IS NULL) = (body IS NOT NULL)),
    CHECK ((broadcast_id IS NULL) = (priority = 'transactional')),
    UNIQUE (broadcast_id, member_id)
);
CREATE INDEX messages_by_broadcast_status ON messages (broadcast_id, status);
-- Partial: queued rows have neither value yet, and a million equal (carrier, NULL) keys made
-- every fan-out insert three times slower on PostgreSQL.
CREATE UNIQUE INDEX messages_by_provider_id ON messages (carrier, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX messages_sent_by_community ON messages (community_id, sent_at) WHERE sent_at IS NOT NULL;

-- Events accepted while the broker was unreachable, forwarded in id order when it returns.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    routing_key TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    created_at  TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0
);
