-- Delivery bookkeeping for the pipeline.
-- claimed_until_ms: a `sending` claim protects a message until then; after a crash another
--   worker may claim it again once the lease has passed (at-least-once, bounded duplicates).
-- reply_to_inbound_id: links a keyword reply to the text that caused it, so a redelivered
--   inbound work item can find (and re-queue) its reply instead of losing it.
-- publish_cursor: the highest message id of a broadcast already handed to a delivery lane;
--   a resumed fan-out publishes from there, so rows inserted before a crash are not stranded.
ALTER TABLE messages ADD COLUMN claimed_until_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN reply_to_inbound_id BIGINT;
ALTER TABLE broadcasts ADD COLUMN publish_cursor BIGINT NOT NULL DEFAULT 0;
CREATE INDEX messages_by_broadcast_id ON messages (broadcast_id, id);
CREATE INDEX messages_by_reply_to ON messages (reply_to_inbound_id) WHERE reply_to_inbound_id IS NOT NULL;
