-- Shared state of each carrier account's sending, so that N engine instances act as one.

-- Which instance sends for a carrier account right now. The holder renews the lease every
-- few hundred milliseconds; when it dies the lease runs out and another instance takes over.
CREATE TABLE carrier_leases (
    carrier       TEXT    PRIMARY KEY,
    holder        TEXT    NOT NULL,
    expires_at_ms INTEGER NOT NULL
);

-- Limits changed at runtime (`floodgate limits set`); they override the profile's until reset.
CREATE TABLE carrier_limits (
    carrier         TEXT    PRIMARY KEY,
    rate_per_second REAL,
    burst           INTEGER,
    updated_at_ms   INTEGER NOT NULL
);

-- Units sent per carrier account and calendar day (in the daily cap's time zone).
CREATE TABLE carrier_daily_usage (
    carrier TEXT    NOT NULL,
    day     TEXT    NOT NULL,
    units   INTEGER NOT NULL,
    PRIMARY KEY (carrier, day)
);
