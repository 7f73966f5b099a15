//! `floodgate limits show|set|reset`: change a carrier account's limits while the engine runs.
//!
//! The change goes to the store; the instance that sends for the carrier reads it on its next
//! lease renewal (a fifth of `carrier_lease_ms`, one second by default), so every instance
//! obeys it within seconds and nothing restarts.

use anyhow::bail;
use chrono::Utc;

use crate::config::{
    CarrierProfile, Env, MAX_BURST, Settings, check_burst, check_rate, load_profiles,
};
use crate::store::LimitOverride;

use super::open_store;

/// What `limits set` changes; an absent value keeps what is in force.
#[derive(Debug, Clone, clap::Args)]
pub struct SetLimits {
    /// The carrier profile (file stem in `carriers/`, e.g. `twilio`).
    #[arg(long)]
    pub carrier: String,
    /// Sustained rate in the profile's unit (segments or requests) per second, 0.001 to 1,000,000.
    #[arg(long, allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// Extra units allowed in a burst, 1 to 1,000,000.
    #[arg(long, allow_negative_numbers = true)]
    pub burst: Option<i64>,
}

impl SetLimits {
    /// Checks the values before anything is read or written; names the flag that is wrong.
    fn check(&self) -> anyhow::Result<(Option<f64>, Option<u32>)> {
        if self.rate.is_none() && self.burst.is_none() {
            bail!("nothing to change: give --rate and/or --burst");
        }
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
        Ok((self.rate, burst))
    }
}

/// One carrier's limits as they stand, for `limits show`.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitsView {
    pub carrier: String,
    pub profile_rate: f64,
    pub profile_burst: u32,
    pub runtime: LimitOverride,
    /// The instance that sends for this carrier now, if any.
    pub holder: Option<String>,
}

impl std::fmt::Display for LimitsView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
        )
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

/// Stores new limits for a carrier; the sending instance applies them within seconds.
pub async fn set_limits(settings: &Settings, args: &SetLimits) -> anyhow::Result<LimitsView> {
    let (rate, burst) = args.check()?;
    let profiles = profiles(settings)?;
    profile(&profiles, &args.carrier)?;
    let store = open_store(settings).await?;
    let change = LimitOverride {
        rate_per_second: rate,
        burst,
        updated_at_ms: Utc::now().timestamp_millis(),
    };
    store.set_carrier_limits(&args.carrier, change).await?;
    let view = view(&store, profile(&profiles, &args.carrier)?).await;
    store.close().await;
    view
}

/// Drops runtime limits: the profile's apply again.
pub async fn reset_limits(settings: &Settings, carrier: &str) -> anyhow::Result<LimitsView> {
    let profiles = profiles(settings)?;
    let profile = profile(&profiles, carrier)?;
    let store = open_store(settings).await?;
    store.reset_carrier_limits(carrier).await?;
    let view = view(&store, profile).await;
    store.close().await;
    view
}

/// Every carrier's limits in force.
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

async fn view(store: &crate::store::Store, profile: &CarrierProfile) -> anyhow::Result<LimitsView> {
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
    })
}

#[cfg(test)]
mod tests {
    use super::SetLimits;

    fn set(rate: Option<f64>, burst: Option<i64>) -> anyhow::Result<(Option<f64>, Option<u32>)> {
        SetLimits {
            carrier: "twilio".into(),
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
        assert_eq!(set(Some(50.0), Some(5)).unwrap(), (Some(50.0), Some(5)));
        assert_eq!(set(Some(1_000_000.0), None).unwrap(), (Some(1e6), None));
        assert!(set(None, None).is_err());
    }
}
