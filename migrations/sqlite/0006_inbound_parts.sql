-- Long inbound texts that the carrier delivers one webhook per part (Vonage `concat`), kept
-- until every part is here; the inbound stage then processes the joined text once.

-- One row per message being put together, keyed as the carrier keys it: the sender and its
-- concat reference. Its upsert is the lock that serialises the parts of one message, so of two
-- parts processed at once exactly one sees the set complete. A complete set stays until
-- first_seen_ms is 48 h old, so that a carrier retry of a part (Vonage resends for 24 h) is
-- recognised; an incomplete one is flushed as it is after 24 h and then deleted.
CREATE TABLE inbound_part_sets (
    carrier       TEXT    NOT NULL,
    from_number   TEXT    NOT NULL,
    concat_ref    TEXT    NOT NULL,
    total         INTEGER NOT NULL CHECK (total > 1),
    to_number     TEXT    NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    PRIMARY KEY (carrier, from_number, concat_ref)
);
CREATE INDEX inbound_part_sets_by_age ON inbound_part_sets (first_seen_ms);

-- The parts themselves, once each however often the carrier resends one.
CREATE TABLE inbound_parts (
    carrier             TEXT    NOT NULL,
    from_number         TEXT    NOT NULL,
    concat_ref          TEXT    NOT NULL,
    part                INTEGER NOT NULL CHECK (part > 0),
    provider_message_id TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    received_at_ms      INTEGER NOT NULL,
    PRIMARY KEY (carrier, from_number, concat_ref, part)
);
