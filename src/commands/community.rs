//! `floodgate community create`: a leader's community and the number members text to join it.

use anyhow::{Context, bail};

use crate::config::{Env, Settings, load_profiles};
use crate::domain::{JoinKeyword, MessageBody, SenderAddress};
use crate::store::{NewCommunity, SenderKind};

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
    /// Most messages the community may send per UTC day.
    #[arg(long)]
    pub daily_cap: Option<u64>,
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

/// Validates everything before writing anything, then creates the community and its number;
/// returns the new community's id.
pub async fn create_community(settings: &Settings, args: &CreateCommunity) -> anyhow::Result<i64> {
    let keyword =
        JoinKeyword::parse(&args.keyword).map_err(|e| anyhow::anyhow!("--keyword: {e}"))?;
    let kind = SenderKind::parse(&args.kind).with_context(|| {
        format!(
            "--kind `{}`: use long_code, toll_free or short_code",
            args.kind
        )
    })?;
    let number =
        SenderAddress::parse(&args.number, kind).map_err(|e| anyhow::anyhow!("--number: {e}"))?;
    let profiles = load_profiles(&settings.carriers_dir, &Env::process())?;
    if !profiles.iter().any(|p| p.name == args.carrier) {
        let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
        bail!(
            "--carrier `{}` has no profile; loaded: {}",
            args.carrier,
            names.join(", ")
        );
    }
    let mut new = NewCommunity::new(args.name.trim());
    if new.name.is_empty() {
        bail!("--name must not be empty");
    }
    new.join_keyword = keyword.as_str().to_owned();
    new.daily_message_cap = match args.daily_cap {
        Some(cap) => Some(i64::try_from(cap).context("--daily-cap is too large")?),
        None => None,
    };
    for (flag, text, slot) in [
        ("--welcome", &args.welcome, &mut new.welcome_reply),
        ("--help-reply", &args.help_reply, &mut new.help_reply),
        ("--stop-reply", &args.stop_reply, &mut new.stop_reply),
    ] {
        if let Some(text) = text {
            MessageBody::parse(text).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
            *slot = text.clone();
        }
    }
    let store = open_store(settings).await?;
    if let Some((owner, _)) = store.community_by_address(&number).await? {
        bail!(
            "--number {} already belongs to community {} ({})",
            number.as_str(),
            owner.id,
            owner.name
        );
    }
    let community = store.create_community(&new).await?;
    store
        .add_sender_number(community.id, &args.carrier, number.clone(), kind, None)
        .await
        .with_context(|| format!("adding {} to community {}", number.as_str(), community.id))?;
    store.close().await;
    Ok(community.id)
}
