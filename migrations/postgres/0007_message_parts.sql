-- Delivery reports per part of a message the carrier split into several (Vonage sends one DLR
-- per part, each under its own message id, all with our client-ref). The message's status is
-- derived from its parts' (store::message_parts): delivered once every part is, undelivered or
-- failed as soon as one part is. Each part's status only moves forward, like a message's.
CREATE TABLE message_parts (
    message_id          BIGINT  NOT NULL,
    provider_message_id TEXT    NOT NULL,
    status              TEXT    NOT NULL CHECK (status IN
        ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled')),
    status_rank         INTEGER NOT NULL CHECK (status_rank BETWEEN 0 AND 3),
    error_code          TEXT,
    updated_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (message_id, provider_message_id)
);
