-- When (by the carrier's clock at our edge) the member's latest JOIN or STOP was sent.
-- Keyword texts are processed concurrently, so a JOIN and a STOP from one phone can be applied
-- out of order; a membership change older than this is skipped, so the member ends in the
-- state of the text they sent last.
ALTER TABLE members ADD COLUMN last_keyword_at_ms BIGINT NOT NULL DEFAULT 0;
