//! Logging setup and every metric name, with its labels and unit, in one place.
