//! `floodgate limits set|reset --sender`: one number's own rate, and how `limits show` lists
//! each number with the rate in force and where it comes from.

use std::fmt;

use anyhow::bail;

use crate::config::CarrierProfile;
use crate::domain::{SenderAddress, SenderKind};
use crate::store::{SenderNumber, Store};

/// Where a sender number's rate in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateSource {
    /// Set for the number in the store (`community create --rate`, `limits set --sender`).
    Own,
    /// The profile's `[[senders]]` entry for the number.
    Profile,
    /// The profile's `[sender_defaults]` for its kind.
    KindDefault,
    /// None of them: only the account's limit holds the number.
    AccountOnly,
}

/// One sender number's limit as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct SenderView {
    pub number: String,
    pub carrier: String,
    pub kind: SenderKind,
    /// The rate in force, units per second; `None` with [`RateSource::AccountOnly`].
    pub rate: Option<f64>,
    pub source: RateSource,
}

impl SenderView {
    /// The number's rate under `profile` (its carrier's), given its stored rate.
    pub fn new(
        profile: &CarrierProfile,
        number: &str,
        kind: SenderKind,
        stored: Option<f64>,
    ) -> Self {
        let listed = profile
            .senders
            .iter()
            .find(|s| s.number == number)
            .and_then(|s| s.rate_per_second);
        let source = match (stored, listed, profile.sender_defaults.for_kind(kind)) {
            (Some(_), _, _) => RateSource::Own,
            (None, Some(_), _) => RateSource::Profile,
            (None, None, Some(_)) => RateSource::KindDefault,
            (None, None, None) => RateSource::AccountOnly,
        };
        Self {
            number: number.to_owned(),
            carrier: profile.name.clone(),
            kind,
            rate: profile.sender_rate(number, kind, stored),
            source,
        }
    }
}

impl fmt::Display for SenderView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "  {:<16} {:<10} ", self.number, self.kind.as_str())?;
        match (self.rate, self.source) {
            (Some(rate), RateSource::Own) => write!(f, "rate {rate}/s (set for this number)"),
            (Some(rate), RateSource::Profile) => write!(f, "rate {rate}/s (profile [[senders]])"),
            (Some(rate), _) => write!(f, "rate {rate}/s ({} default)", self.kind.as_str()),
            (None, _) => f.write_str("no rate of its own (account limit only)"),
        }
    }
}

/// Parses `--sender` and finds the number's row and its carrier's profile.
async fn find<'a>(
    store: &Store,
    profiles: &'a [CarrierProfile],
    text: &str,
) -> anyhow::Result<(SenderNumber, &'a CarrierProfile)> {
    let address = SenderAddress::parse_any(text).map_err(|e| anyhow::anyhow!("--sender: {e}"))?;
    let Some(row) = store.sender_number(&address).await? else {
        bail!(
            "--sender {address}: no community sends from this number; `floodgate limits show` lists them"
        );
    };
    match profiles.iter().find(|p| p.name == row.carrier) {
        Some(profile) => Ok((row, profile)),
        None => bail!(
            "--sender {address}: its carrier `{}` has no loaded profile",
            row.carrier
        ),
    }
}

/// Stores `rate` (or with `None` clears it) as the number's own; the instance sending for its
/// carrier applies it on its next lease renewal, within about a second.
pub async fn set_rate(
    store: &Store,
    profiles: &[CarrierProfile],
    text: &str,
    rate: Option<f64>,
) -> anyhow::Result<SenderView> {
    let (row, profile) = find(store, profiles, text).await?;
    let Some(row) = store.set_sender_rate(&row.number, rate).await? else {
        bail!("--sender {}: the number was removed meanwhile", row.number);
    };
    Ok(SenderView::new(
        profile,
        row.number.as_str(),
        row.kind,
        row.rate_per_second,
    ))
}

/// Every number on `profile`'s carrier, as `limits show` lists them.
pub async fn views(store: &Store, profile: &CarrierProfile) -> anyhow::Result<Vec<SenderView>> {
    Ok(store
        .sender_limits(&profile.name)
        .await?
        .into_iter()
        .map(|row| SenderView::new(profile, &row.number, row.kind, row.rate_per_second))
        .collect())
}
