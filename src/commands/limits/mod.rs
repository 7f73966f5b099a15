//! `floodgate limits show|set|reset`: change a carrier account's limits, or one sender
//! number's rate, while the engine runs.
//!
//! The change goes to the store; the instance that sends for the carrier reads it on its next
//! lease renewal (a fifth of `carrier_lease_ms`, one second by default), so every instance
//! obeys it within seconds and nothing restarts.

mod sender;

use std::fmt;

use anyhow::bail;
use chrono::Utc;

pub use sender::{RateSource, SenderView};

use crate::config::{
    CarrierProfile, Env, MAX_BURST, Settings, check_burst, check_rate, load_profiles,
};
use crate::store::{LimitOverride, Store};

use super::open_store;

/// What `limits set` changes: a carrier account's rate and/or burst, or a sender number's
/// rate; an absent value keeps what is in force.
#[derive(Debug, Clone, clap::Args)]
pub struct SetLimits {
    /// The carrier profile (file stem in `carriers/`, e.g. `twilio`).
    #[arg(long)]
    pub carrier: Option<String>,
    /// A sender number (E.164, or a short code's digits) whose own rate to set instead.
    #[arg(long)]
    pub sender: Option<String>,
    /// Sustained rate in the profile's unit (segments or requests) per second, 0.001 to 1,000,000.
    #[arg(long, allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// Extra units allowed in a burst, 1 to 1,000,000 (carriers only).
    #[arg(long, allow_negative_numbers = true)]
    pub burst: Option<i64>,
}

/// What `limits reset` puts back: a carrier's profile limits, or a number's kind default.
#[derive(Debug, Clone, clap::Args)]
pub struct ResetLimits {
    /// The carrier profile whose runtime limits to drop.
    #[arg(long)]
    pub carrier: Option<String>,
    /// The sender number whose own rate to drop (its kind's default applies again).
    #[arg(long)]
    pub sender: Option<String>,
}

/// What `limits set|reset` touches, checked.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Carrier {
        name: String,
        rate: Option<f64>,
        burst: Option<u32>,
    },
    Sender {
        number: String,
        rate: Option<f64>,
    },
}

impl SetLimits {
    /// Checks the flags before anything is read or written; names the flag that is wrong.
    fn check(&self) -> anyhow::Result<Target> {
        if let Some(rate) = self.rate {
            check_rate(rate).map_err(|problem| anyhow::anyhow!("--rate {rate:?}: {problem}"))?;
        }
        let burst = self
            .burst
            .map(|burst| {
                u32::try_from(burst)
                    .ok()
                    .filter(|b| check_burst(*b).is_ok())
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "--burst {burst}: must be a whole number from 1 to {MAX_BURST}"
                        )
                    })
            })
            .transpose()?;
        match (&self.carrier, &self.sender) {
            (Some(_), Some(_)) | (None, None) => {
                bail!("give --carrier (its account limits) or --sender (one number's rate)")
            }
            (Some(name), None) => {
                if self.rate.is_none() && burst.is_none() {
                    bail!("nothing to change: give --rate and/or --burst");
                }
                Ok(Target::Carrier {
                    name: name.clone(),
                    rate: self.rate,
                    burst,
                })
            }
            (None, Some(number)) => {
                if burst.is_some() {
                    bail!("--burst: a sender number's limit is a rate only (its burst is 1)");
                }
                if self.rate.is_none() {
                    bail!("nothing to change: give --rate");
                }
                Ok(Target::Sender {
                    number: number.clone(),
                    rate: self.rate,
                })
            }
        }
    }
}

impl ResetLimits {
    fn check(&self) -> anyhow::Result<Target> {
        match (&self.carrier, &self.sender) {
            (Some(name), None) => Ok(Target::Carrier {
                name: name.clone(),
                rate: None,
                burst: None,
            }),
            (None, Some(number)) => Ok(Target::Sender {
                number: number.clone(),
                rate: None,
            }),
            _ => bail!(
                "give --carrier (back to its profile) or --sender (back to its kind's default)"
            ),
        }
    }
}

/// One carrier's limits as they stand, and its numbers', for `limits show`.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitsView {
    pub carrier: String,
    pub profile_rate: f64,
    pub profile_burst: u32,
    pub runtime: LimitOverride,
    /// The instance that sends for this carrier now, if any.
    pub holder: Option<String>,
    /// Its sender numbers in the store, with the rate each is held to.
    pub senders: Vec<SenderView>,
}

impl fmt::Display for LimitsView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = self.runtime.rate_per_second.unwrap_or(self.profile_rate);
        let burst = self.runtime.burst.unwrap_or(self.profile_burst);
        let source = if self.runtime.updated_at_ms > 0 {
            "set at runtime"
        } else {
            "profile"
        };
        write!(
            f,
            "{:<10} rate {rate}/s  burst {burst}  ({source}; profile {}/s burst {})  sender: {}",
            self.carrier,
            self.profile_rate,
            self.profile_burst,
            self.holder.as_deref().unwrap_or("none")
        )?;
        for sender in &self.senders {
            write!(f, "\n{sender}")?;
        }
        Ok(())
    }
}

/// What `limits set|reset` changed, as it now stands.
#[derive(Debug, Clone, PartialEq)]
pub enum LimitsChanged {
    Carrier(LimitsView),
    Sender(SenderView),
}

impl fmt::Display for LimitsChanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Carrier(view) => view.fmt(f),
            Self::Sender(view) => write!(f, "{:<10}{}", view.carrier, view),
        }
    }
}

fn profile<'a>(profiles: &'a [CarrierProfile], name: &str) -> anyhow::Result<&'a CarrierProfile> {
    match profiles.iter().find(|p| p.name == name) {
        Some(p) => Ok(p),
        None => {
            let known: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
            bail!(
                "--carrier {name}: no such carrier profile; known: {}",
                known.join(", ")
            )
        }
    }
}

fn profiles(settings: &Settings) -> anyhow::Result<Vec<CarrierProfile>> {
    Ok(load_profiles(&settings.carriers_dir, &Env::process())?)
}

/// Stores new limits; the instance sending for the carrier applies them within seconds.
pub async fn set_limits(settings: &Settings, args: &SetLimits) -> anyhow::Result<LimitsChanged> {
    let target = args.check()?;
    change(settings, target).await
}

/// Drops runtime limits: the profile's apply again (for a number, its kind's default).
pub async fn reset_limits(
    settings: &Settings,
    args: &ResetLimits,
) -> anyhow::Result<LimitsChanged> {
    let target = args.check()?;
    change(settings, target).await
}

async fn change(settings: &Settings, target: Target) -> anyhow::Result<LimitsChanged> {
    let profiles = profiles(settings)?;
    if let Target::Carrier { name, .. } = &target {
        profile(&profiles, name)?;
    }
    let store = open_store(settings).await?;
    let changed = match target {
        Target::Carrier { name, rate, burst } => {
            if rate.is_none() && burst.is_none() {
                store.reset_carrier_limits(&name).await?;
            } else {
                let change = LimitOverride {
                    rate_per_second: rate,
                    burst,
                    updated_at_ms: Utc::now().timestamp_millis(),
                };
                store.set_carrier_limits(&name, change).await?;
            }
            view(&store, profile(&profiles, &name)?)
                .await
                .map(LimitsChanged::Carrier)
        }
        Target::Sender { number, rate } => sender::set_rate(&store, &profiles, &number, rate)
            .await
            .map(LimitsChanged::Sender),
    };
    store.close().await;
    changed
}

/// Every carrier's limits in force, with its numbers'.
pub async fn show_limits(settings: &Settings) -> anyhow::Result<Vec<LimitsView>> {
    let profiles = profiles(settings)?;
    let store = open_store(settings).await?;
    let mut views = Vec::new();
    for profile in &profiles {
        views.push(view(&store, profile).await?);
    }
    store.close().await;
    Ok(views)
}

async fn view(store: &Store, profile: &CarrierProfile) -> anyhow::Result<LimitsView> {
    let now = Utc::now().timestamp_millis();
    let holder = store
        .carrier_lease(&profile.name)
        .await?
        .filter(|(_, until)| *until > now)
        .map(|(holder, _)| holder);
    Ok(LimitsView {
        carrier: profile.name.clone(),
        profile_rate: profile.limits.rate_per_second,
        profile_burst: profile.limits.burst,
        runtime: store.carrier_limits(&profile.name).await?,
        holder,
        senders: sender::views(store, profile).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::{ResetLimits, SetLimits, Target};

    fn set(rate: Option<f64>, burst: Option<i64>) -> anyhow::Result<Target> {
        SetLimits {
            carrier: Some("twilio".into()),
            sender: None,
            rate,
            burst,
        }
        .check()
    }

    #[test]
    fn rates_and_bursts_out_of_bounds_name_the_flag() {
        for rate in [1e300, 0.0, -1.0, f64::NAN, f64::INFINITY, 2e6] {
            let message = set(Some(rate), None).unwrap_err().to_string();
            assert!(message.starts_with("--rate"), "{message}");
            assert!(message.contains("1000000"), "{message}");
        }
        for burst in [0, -1, 4_294_967_295, 1_000_001] {
            let message = set(None, Some(burst)).unwrap_err().to_string();
            assert!(
                message.starts_with(&format!("--burst {burst}")),
                "{message}"
            );
        }
        let carrier = |rate, burst| Target::Carrier {
            name: "twilio".into(),
            rate,
            burst,
        };
        assert_eq!(
            set(Some(50.0), Some(5)).unwrap(),
            carrier(Some(50.0), Some(5))
        );
        assert_eq!(set(Some(1e6), None).unwrap(), carrier(Some(1e6), None));
        assert!(set(None, None).is_err());
    }

    #[test]
    fn a_sender_takes_a_rate_only_and_exactly_one_target_is_named() {
        let sender = |rate, burst| SetLimits {
            carrier: None,
            sender: Some("+14155550100".into()),
            rate,
            burst,
        };
        assert_eq!(
            sender(Some(1.0), None).check().unwrap(),
            Target::Sender {
                number: "+14155550100".into(),
                rate: Some(1.0)
            }
        );
        assert!(sender(Some(1.0), Some(2)).check().is_err());
        assert!(sender(None, None).check().is_err());
        assert!(sender(Some(1e300), None).check().is_err());
        let both = SetLimits {
            carrier: Some("twilio".into()),
            ..sender(Some(1.0), None)
        };
        assert!(both.check().is_err());
        let reset = ResetLimits {
            carrier: None,
            sender: None,
        };
        assert!(reset.check().is_err());
    }
}
