//! `floodgate community create`: a leader's community and the number members text to join it.

use anyhow::{Context, bail};

use crate::config::{Env, Settings, check_rate, load_profiles};
use crate::domain::{JoinKeyword, MessageBody, SenderAddress};
use crate::store::{NewCommunity, NewSender, SenderKind};

use super::open_store;

/// What `community create` was asked for, as typed on the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateCommunity {
    /// The community's name, for people.
    #[arg(long)]
    pub name: String,
    /// The word members text to join (e.g. JOIN).
    #[arg(long)]
    pub keyword: String,
    /// The number members text and broadcasts come from: E.164, or a short code's 5 or 6
    /// digits with `--kind short_code`.
    #[arg(long)]
    pub number: String,
    /// The carrier profile that owns the number (e.g. twilio).
    #[arg(long)]
    pub carrier: String,
    /// long_code, toll_free or short_code.
    #[arg(long, default_value = "long_code")]
    pub kind: String,
    /// The number's own rate in the carrier's units per second; without it, its kind's default
    /// from the profile's `[sender_defaults]` applies.
    #[arg(long, allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// Most messages the community may send per UTC day (at least 1; leave out for no cap).
    #[arg(long, allow_negative_numbers = true)]
    pub daily_cap: Option<i64>,
    /// Reply to the join keyword.
    #[arg(long)]
    pub welcome: Option<String>,
    /// Reply to HELP.
    #[arg(long)]
    pub help_reply: Option<String>,
    /// Reply to STOP.
    #[arg(long)]
    pub stop_reply: Option<String>,
}

/// Validates everything before writing anything, then creates the community and its number
/// in one transaction; returns the new community's id.
pub async fn create_community(settings: &Settings, args: &CreateCommunity) -> anyhow::Result<i64> {
    let (new, sender) = args.check()?;
    let profiles = load_profiles(&settings.carriers_dir, &Env::process())?;
    if !profiles.iter().any(|p| p.name == args.carrier) {
        let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
        bail!(
            "--carrier `{}` has no profile; loaded: {}",
            args.carrier,
            names.join(", ")
        );
    }
    let store = open_store(settings).await?;
    if let Some((owner, _)) = store.community_by_address(&sender.number).await? {
        bail!(
            "--number {} already belongs to community {} ({})",
            sender.number,
            owner.id,
            owner.name
        );
    }
    let (community, _) = store
        .create_community_with_sender(&new, &sender)
        .await
        .with_context(|| format!("creating the community with {}", sender.number))?;
    store.close().await;
    Ok(community.id)
}

impl CreateCommunity {
    /// Every flag parsed and checked, naming the one that is wrong; nothing is read or written.
    fn check(&self) -> anyhow::Result<(NewCommunity, NewSender)> {
        let keyword =
            JoinKeyword::parse(&self.keyword).map_err(|e| anyhow::anyhow!("--keyword: {e}"))?;
        let kind = SenderKind::parse(&self.kind).with_context(|| {
            format!(
                "--kind `{}`: use long_code, toll_free or short_code",
                self.kind
            )
        })?;
        let number = SenderAddress::parse(&self.number, kind)
            .map_err(|e| anyhow::anyhow!("--number: {e}"))?;
        if let Some(rate) = self.rate {
            check_rate(rate).map_err(|problem| anyhow::anyhow!("--rate {rate:?}: {problem}"))?;
        }
        let mut new = NewCommunity::new(self.name.trim());
        if new.name.is_empty() {
            bail!("--name must not be empty");
        }
        new.join_keyword = keyword.as_str().to_owned();
        new.daily_message_cap = match self.daily_cap {
            Some(cap) if cap < 1 => bail!(
                "--daily-cap {cap}: must be at least 1 message a day; leave it out for no cap"
            ),
            cap => cap,
        };
        for (flag, text, slot) in [
            ("--welcome", &self.welcome, &mut new.welcome_reply),
            ("--help-reply", &self.help_reply, &mut new.help_reply),
            ("--stop-reply", &self.stop_reply, &mut new.stop_reply),
        ] {
            if let Some(text) = text {
                MessageBody::parse(text).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
                *slot = text.clone();
            }
        }
        let sender = NewSender {
            carrier: self.carrier.clone(),
            number,
            kind,
            rate_per_second: self.rate,
        };
        Ok((new, sender))
    }
}

#[cfg(test)]
mod tests {
    use super::CreateCommunity;

    fn args() -> CreateCommunity {
        CreateCommunity {
            name: "Rally".into(),
            keyword: "JOIN".into(),
            number: "+14155550100".into(),
            carrier: "twilio".into(),
            kind: "long_code".into(),
            rate: None,
            daily_cap: None,
            welcome: None,
            help_reply: None,
            stop_reply: None,
        }
    }

    fn refused(args: CreateCommunity) -> String {
        args.check().map(|_| ()).unwrap_err().to_string()
    }

    #[test]
    fn a_daily_cap_below_one_names_the_flag() {
        for cap in [0, -5] {
            let message = refused(CreateCommunity {
                daily_cap: Some(cap),
                ..args()
            });
            assert!(
                message.starts_with(&format!("--daily-cap {cap}")),
                "{message}"
            );
            assert!(!message.contains("CHECK"), "{message}");
        }
        let (new, _) = CreateCommunity {
            daily_cap: Some(500),
            ..args()
        }
        .check()
        .unwrap();
        assert_eq!(new.daily_message_cap, Some(500));
    }

    #[test]
    fn a_rate_is_checked_and_kept_for_the_number() {
        for rate in [0.0, -1.0, 1e300] {
            let message = refused(CreateCommunity {
                rate: Some(rate),
                ..args()
            });
            assert!(message.starts_with("--rate"), "{message}");
        }
        let (_, sender) = CreateCommunity {
            rate: Some(2.5),
            ..args()
        }
        .check()
        .unwrap();
        assert_eq!(sender.rate_per_second, Some(2.5));
        let (_, sender) = args().check().unwrap();
        assert_eq!(sender.rate_per_second, None, "its kind's default applies");
    }
}
