//! The request log: every send request, kept compactly enough to hold a million of them.
//!
//! An [`Entry`] is 64 bytes. Valid `To` numbers are stored as their E.164 digits in a
//! `u64` (no per-recipient allocation); accounts, senders and bodies are interned (bodies
//! up to a cap, then only their hash); client message ids go into one shared arena.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::mem::size_of;

use serde::{Deserialize, Serialize};

use crate::carriers::ids::message_id;
use crate::config::Carrier;

/// Marks a `to` key that is an interner index rather than E.164 digits.
const INTERNED: u64 = 1 << 63;
/// Marks an absent `u32` index.
const NONE: u32 = u32::MAX;
/// Longest client message id kept; longer ones are truncated (at a char boundary).
/// It must fit the entry's `u8` length.
const MAX_CLIENT_ID: usize = 128;
/// `Entry::flags`: bits 0–1 the carrier, 2–3 the outcome, then the two fault marks.
const CARRIER_MASK: u8 = 0b11;
const OUTCOME_SHIFT: u8 = 2;
const STORM: u8 = 1 << 4;
const TIMED_OUT: u8 = 1 << 5;

/// What became of a request, whatever the carrier's way of saying it (Vonage answers
/// everything with HTTP 200, so the HTTP status alone cannot tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// A message was created.
    Accepted,
    /// The carrier's over-limit answer (a bucket or the storm).
    Throttled,
    /// An injected server error.
    Failed,
    /// Any other refusal: credentials, fields, recipient, opt-out.
    Rejected,
}

impl Outcome {
    fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0 => Self::Accepted,
            1 => Self::Throttled,
            2 => Self::Failed,
            _ => Self::Rejected,
        }
    }
}

fn carrier_from_bits(bits: u8) -> Carrier {
    match bits & CARRIER_MASK {
        1 => Carrier::Telnyx,
        2 => Carrier::Vonage,
        _ => Carrier::Twilio,
    }
}

/// One send request as stored; see [`RecordedRequest`] for the readable form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// Microseconds since the simulator started (or was reset).
    pub at_us: u64,
    /// Hash of the body; equal bodies have equal hashes within a run.
    pub body_hash: u64,
    /// E.164 digits, or `INTERNED | index` for anything else.
    pub to: u64,
    /// The message SID's 128 bits; `[0, 0]` when no message was created.
    pub sid: [u64; 2],
    pub account: u32,
    pub from: u32,
    pub body: u32,
    pub client_id_at: u32,
    pub client_id_len: u8,
    /// Carrier, outcome, storm and timeout marks; see the constants above.
    pub flags: u8,
    pub segments: u16,
    /// The HTTP status answered (Vonage: always 200).
    pub status: u16,
    /// The carrier's error code (Vonage: the `status`), 0 when none.
    pub code: u16,
}

impl Entry {
    /// What became of the request.
    pub fn outcome(&self) -> Outcome {
        Outcome::from_bits(self.flags >> OUTCOME_SHIFT)
    }

    /// Whether the storm, not a bucket, throttled it.
    pub fn in_storm(&self) -> bool {
        self.flags & STORM != 0
    }

    /// Whether it was held past the timeout hang.
    pub fn timed_out(&self) -> bool {
        self.flags & TIMED_OUT != 0
    }
}

/// A send request as reported by `GET /sim/requests` and [`crate::SimHandle::requests`].
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RecordedRequest {
    /// Milliseconds since the simulator started (or was last reset).
    pub at_ms: f64,
    /// The API the request used.
    pub carrier: Carrier,
    /// The account it authenticated as, else the one it named (Twilio's URL, Vonage's
    /// `api_key`; empty for an unknown Telnyx key).
    pub account_sid: String,
    /// The sender, as sent.
    pub from: String,
    /// The recipient: `+E.164` (Vonage's digits get their `+`), else as sent.
    pub to: String,
    /// The body, unless more distinct bodies were seen than the configured cap.
    pub body: Option<String>,
    /// Hex hash of the body; what duplicate detection compares.
    pub body_hash: String,
    /// Segments the body counts as.
    pub segments: u16,
    /// HTTP status the simulator answered (Vonage: 200 even for refusals).
    pub status: u16,
    /// What became of it.
    pub outcome: Outcome,
    /// The carrier's error code of the answer (Vonage: its `status`), if any.
    pub error_code: Option<u16>,
    /// Throttled by the 429 storm rather than a bucket.
    pub storm: bool,
    /// Answered only after the timeout hang.
    pub timed_out: bool,
    /// The message id in the carrier's shape, when one was created.
    pub sid: Option<String>,
    /// The `X-Floodgate-Message-Id` header, if the client sent one.
    pub client_message_id: Option<String>,
}

/// What the send path hands to the log.
pub(crate) struct NewEntry<'a> {
    pub at_us: u64,
    pub carrier: Carrier,
    pub outcome: Outcome,
    pub storm: bool,
    pub timed_out: bool,
    pub account: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub body: &'a str,
    pub segments: u16,
    pub status: u16,
    pub code: u16,
    pub sid: [u64; 2],
    pub client_id: Option<&'a str>,
}

#[derive(Debug, Default)]
struct Interner {
    index: HashMap<Box<str>, u32>,
    values: Vec<Box<str>>,
}

impl Interner {
    fn intern(&mut self, value: &str) -> u32 {
        if let Some(&i) = self.index.get(value) {
            return i;
        }
        let i = u32::try_from(self.values.len()).unwrap_or(NONE);
        if i != NONE {
            self.values.push(value.into());
            self.index.insert(value.into(), i);
        }
        i
    }

    fn get(&self, i: u32) -> Option<&str> {
        self.values.get(i as usize).map(|s| &**s)
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    fn heap_bytes(&self) -> usize {
        let strings: usize = self.values.iter().map(|s| s.len()).sum();
        // Each string is held twice; the map costs roughly its slot plus a control byte.
        2 * strings
            + self.values.capacity() * size_of::<Box<str>>()
            + self.index.capacity() * (size_of::<(Box<str>, u32)>() + 1)
    }
}

/// The log itself; owned by the simulator's core behind its lock.
#[derive(Debug, Default)]
pub(crate) struct Log {
    entries: Vec<Entry>,
    names: Interner,
    bodies: Interner,
    max_bodies: usize,
    client_ids: String,
}

impl Log {
    pub fn new(max_bodies: usize) -> Self {
        Self {
            max_bodies,
            ..Self::default()
        }
    }

    pub fn push(&mut self, new: NewEntry<'_>) {
        let to = match e164_digits(new.to) {
            Some(digits) => digits,
            None => INTERNED | u64::from(self.names.intern(new.to)),
        };
        let body = if self.bodies.len() < self.max_bodies {
            self.bodies.intern(new.body)
        } else {
            NONE
        };
        let (client_id_at, client_id_len) = match new.client_id {
            Some(id) => self.store_client_id(id),
            None => (NONE, 0),
        };
        let flags = new.carrier as u8
            | (new.outcome as u8) << OUTCOME_SHIFT
            | if new.storm { STORM } else { 0 }
            | if new.timed_out { TIMED_OUT } else { 0 };
        let entry = Entry {
            at_us: new.at_us,
            body_hash: body_hash(new.body),
            to,
            sid: new.sid,
            account: self.names.intern(new.account),
            from: self.names.intern(new.from),
            body,
            client_id_at,
            client_id_len,
            flags,
            segments: new.segments,
            status: new.status,
            code: new.code,
        };
        self.entries.push(entry);
    }

    fn store_client_id(&mut self, id: &str) -> (u32, u8) {
        let mut end = id.len().min(MAX_CLIENT_ID);
        while !id.is_char_boundary(end) {
            end -= 1;
        }
        match u32::try_from(self.client_ids.len()) {
            Ok(at) if at != NONE => {
                self.client_ids.push_str(&id[..end]);
                (at, u8::try_from(end).unwrap_or(0))
            }
            _ => (NONE, 0),
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn name(&self, i: u32) -> &str {
        self.names.get(i).unwrap_or("")
    }

    pub fn clear(&mut self) {
        *self = Self::new(self.max_bodies);
    }

    /// Bytes the log holds on the heap, for the report's bytes-per-request figure.
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * size_of::<Entry>()
            + self.client_ids.capacity()
            + self.names.heap_bytes()
            + self.bodies.heap_bytes()
    }

    pub fn to_string_of(&self, to: u64) -> String {
        if to & INTERNED != 0 {
            self.names
                .get((to & !INTERNED) as u32)
                .unwrap_or("")
                .to_owned()
        } else {
            format!("+{to}")
        }
    }

    /// The `X-Floodgate-Message-Id` the request carried, if any.
    pub fn client_id(&self, e: &Entry) -> Option<&str> {
        if e.client_id_at == NONE {
            return None;
        }
        let at = e.client_id_at as usize;
        self.client_ids.get(at..at + usize::from(e.client_id_len))
    }

    pub fn readable(&self, e: &Entry) -> RecordedRequest {
        let client_message_id = (e.client_id_at != NONE).then(|| {
            let at = e.client_id_at as usize;
            self.client_ids
                .get(at..at + usize::from(e.client_id_len))
                .unwrap_or("")
                .to_owned()
        });
        let carrier = carrier_from_bits(e.flags);
        RecordedRequest {
            at_ms: e.at_us as f64 / 1000.0,
            carrier,
            account_sid: self.name(e.account).to_owned(),
            from: self.name(e.from).to_owned(),
            to: self.to_string_of(e.to),
            body: self.bodies.get(e.body).map(str::to_owned),
            body_hash: format!("{:016x}", e.body_hash),
            segments: e.segments,
            status: e.status,
            outcome: e.outcome(),
            error_code: (e.code != 0).then_some(e.code),
            storm: e.in_storm(),
            timed_out: e.timed_out(),
            sid: (e.sid != [0, 0]).then(|| message_id(carrier, e.sid)),
            client_message_id,
        }
    }
}

/// The E.164 digits of `^\+[1-9]\d{1,14}$`, or `None` when `to` is not E.164.
pub(crate) fn e164_digits(to: &str) -> Option<u64> {
    let digits = to.strip_prefix('+')?;
    let bytes = digits.as_bytes();
    let valid =
        (2..=15).contains(&bytes.len()) && bytes[0] != b'0' && bytes.iter().all(u8::is_ascii_digit);
    if valid { digits.parse().ok() } else { None }
}

fn body_hash(body: &str) -> u64 {
    // `DefaultHasher::new()` uses fixed keys: stable within a run, which is all we compare.
    let mut h = DefaultHasher::new();
    body.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(to: &'a str, body: &'a str, client_id: Option<&'a str>) -> NewEntry<'a> {
        NewEntry {
            at_us: 1_500,
            carrier: Carrier::Twilio,
            outcome: Outcome::Accepted,
            storm: false,
            timed_out: true,
            account: "AC1",
            from: "+15550001111",
            to,
            body,
            segments: 1,
            status: 201,
            code: 0,
            sid: [1, 2],
            client_id,
        }
    }

    #[test]
    fn an_entry_is_64_bytes() {
        assert_eq!(size_of::<Entry>(), 64);
    }

    #[test]
    fn e164_parsing() {
        assert_eq!(e164_digits("+14155550100"), Some(14_155_550_100));
        assert_eq!(e164_digits("+123456789012345"), Some(123_456_789_012_345));
        for bad in [
            "",
            "+",
            "+1",
            "14155550100",
            "+04155550100",
            "+1415555010a",
            "+1234567890123456",
        ] {
            assert_eq!(e164_digits(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips_to_a_readable_request() {
        let mut log = Log::new(1);
        log.push(entry("+14155550100", "hi", Some("m-1")));
        log.push(entry("garbage", "other body", None));
        let first = log.readable(&log.entries()[0]);
        assert_eq!(first.to, "+14155550100");
        assert_eq!(first.body.as_deref(), Some("hi"));
        assert_eq!(first.client_message_id.as_deref(), Some("m-1"));
        assert_eq!(
            first.sid.as_deref(),
            Some("SM00000000000000010000000000000002")
        );
        assert_eq!(first.at_ms, 1.5);
        assert_eq!(
            (first.outcome, first.timed_out, first.storm),
            (Outcome::Accepted, true, false)
        );
        let second = log.readable(&log.entries()[1]);
        assert_eq!(second.to, "garbage");
        assert_eq!(
            second.body, None,
            "over the distinct-body cap only the hash is kept"
        );
        assert_eq!(second.client_message_id, None);
    }

    #[test]
    fn a_million_requests_stay_under_150_bytes_each() {
        let mut log = Log::new(10_000);
        let n = 1_000_000u64;
        for i in 0..n {
            let to = format!("+1415{:07}", i);
            let id = format!("{:08x}-0000-4000-8000-{:012x}", i, i);
            log.push(entry(&to, "Rally at noon", Some(&id)));
        }
        let per = log.heap_bytes() as f64 / n as f64;
        eprintln!("{per:.1} heap bytes per recorded request");
        assert!(per < 150.0, "{per} bytes per request");
    }
}
