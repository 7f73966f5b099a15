-- The embedded bus: work queues as rows, so a crash loses nothing without RabbitMQ.
-- A row is invisible while leased (visible_at_ms in the future) and deleted when acknowledged.
CREATE TABLE queue_items (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    queue          TEXT    NOT NULL,
    payload        BLOB    NOT NULL,
    attempt        INTEGER NOT NULL DEFAULT 1,
    visible_at_ms  INTEGER NOT NULL,
    enqueued_at_ms INTEGER NOT NULL
);
CREATE INDEX queue_items_ready ON queue_items (queue, visible_at_ms, id);

-- Work that failed too often or could not be read, kept for inspection.
CREATE TABLE dead_letters (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    queue      TEXT    NOT NULL,
    payload    BLOB    NOT NULL,
    attempt    INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    dead_at_ms INTEGER NOT NULL
);
