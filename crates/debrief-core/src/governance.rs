//! Who gets a summary (SPEC section 2): a company's AI settings, its support modules, devices
//! and policies, the remote user's consent and the supporter's own setting, read by one pure
//! function, [`eligibility`], that says yes or gives the reason why not.
//!
//! Readings where the SPEC is silent, chosen here:
//! - channels other than `remote_session` (chat, tickets, e-mail…) are the company's own
//!   supporters at work, so they follow `insights.outgoing` and its scope; the device, platform
//!   and consent rules concern remote devices and do not apply to them;
//! - a remote session without a direction counts as outgoing;
//! - the device's consent mode is the one it had when the session was first evaluated;
//! - an enforced policy also overrides the device user's own opt-out.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::session::{Channel, ConsentAnswer, Direction, Platform};
use crate::tenancy::LicenseTier;

/// Which outgoing connections get summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OutgoingScope {
    /// Every connection started by the company's users.
    #[default]
    All,
    /// Only connections through a custom support module with insights enabled.
    CustomModulesOnly,
}

/// Which incoming connections get summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum IncomingScope {
    /// Every device of the company that is managed or runs the full client, with its user
    /// signed in with an account of the company.
    #[default]
    AllDevices,
    /// Only managed devices with a policy whose reports and insights toggles are both on.
    ManagedWithPolicy,
}

/// A switch with its scope (the scope is kept while the switch is off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Scoped<S> {
    pub enabled: bool,
    #[serde(default)]
    pub scope: S,
}

/// The master AI switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AiSwitch {
    pub enabled: bool,
}

/// The session-insights settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsightsSettings {
    #[serde(default)]
    pub outgoing: Scoped<OutgoingScope>,
    #[serde(default)]
    pub incoming: Scoped<IncomingScope>,
    /// The language summaries are written in (`en`, `pt-BR`, `es`, `de`, `fr`).
    #[serde(default = "default_language")]
    pub language: String,
}

fn default_language() -> String {
    "en".into()
}

impl Default for InsightsSettings {
    fn default() -> Self {
        InsightsSettings {
            outgoing: Scoped::default(),
            incoming: Scoped::default(),
            language: default_language(),
        }
    }
}

/// A company's AI settings; everything is off until an admin turns it on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AiSettings {
    #[serde(default)]
    pub ai: AiSwitch,
    #[serde(default)]
    pub insights: InsightsSettings,
}

/// A device's access control for session insights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMode {
    /// No question is asked; summaries are produced.
    Allowed,
    /// Sessions are never recorded for insights.
    Denied,
    /// The remote user is asked at the start of each session.
    #[default]
    AfterConfirmation,
}

impl ConsentMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentMode::Allowed => "allowed",
            ConsentMode::Denied => "denied",
            ConsentMode::AfterConfirmation => "after_confirmation",
        }
    }
}

impl std::str::FromStr for ConsentMode {
    type Err = crate::RecordError;

    /// Reads a wire name; anything else is an error naming the three.
    fn from_str(text: &str) -> Result<Self, crate::RecordError> {
        [
            ConsentMode::Allowed,
            ConsentMode::Denied,
            ConsentMode::AfterConfirmation,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == text)
        .ok_or_else(|| {
            crate::RecordError::invalid(
                "consent_mode",
                format!("{text:?} is not allowed, denied or after_confirmation"),
            )
        })
    }
}

/// A support module as eligibility reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleFacts {
    pub id: String,
    pub custom: bool,
    pub insights_enabled: bool,
}

/// A policy as eligibility reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFacts {
    pub id: String,
    pub reports_enabled: bool,
    pub insights_enabled: bool,
    pub enforced: bool,
}

/// A device as eligibility reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceFacts {
    pub id: String,
    pub managed: bool,
    pub full_client: bool,
    /// Its user is signed in with an account linked to the company.
    pub signed_in_company_account: bool,
    /// Its user turned session insights off on the device.
    pub user_opted_out: bool,
}

/// Everything eligibility reads about one session.
#[derive(Debug, Clone)]
pub struct SessionFacts<'a> {
    pub settings: &'a AiSettings,
    pub tier: LicenseTier,
    pub channel: Channel,
    pub direction: Option<Direction>,
    pub platform: Option<Platform>,
    pub device: Option<&'a DeviceFacts>,
    pub module: Option<&'a ModuleFacts>,
    /// The policy assigned to the device.
    pub policy: Option<&'a PolicyFacts>,
    pub consent_mode: ConsentMode,
    pub consent: ConsentAnswer,
    /// The supporter's "log sessions for connection reports" setting (on when the supporter
    /// is not a user of the company).
    pub supporter_logs_sessions: bool,
}

/// Why a session is not summarized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    TierWithoutInsights(LicenseTier),
    AiDisabled,
    SupporterNotLogging,
    OutgoingDisabled,
    IncomingDisabled,
    NoModule,
    ModuleNotCustom(String),
    ModuleInsightsDisabled(String),
    PlatformUnsupported(Option<Platform>),
    NoDevice,
    DeviceNotManagedNorFullClient(String),
    DeviceUserNotSignedIn(String),
    DeviceNotManaged(String),
    NoPolicy(String),
    PolicyReportsDisabled(String),
    PolicyInsightsDisabled(String),
    DeviceUserOptedOut(String),
    DeviceDeniesConsent(String),
    ConsentDenied,
    AwaitingConsent,
    /// No AI credit was left to charge (out-of-credits mode `stop`): not a rule of
    /// eligibility, the charge that follows it.
    NoCredits,
}

/// Stands for the id in [`SkipReason::every_form`]'s texts while a stored reason is read.
const PARAMETER_MARK: &str = "\u{1}";

impl SkipReason {
    /// Every form a reason takes: each reason with `id` as its module, device or policy id,
    /// and the tier and platform reasons once per tier and platform.
    pub fn every_form(id: &str) -> Vec<SkipReason> {
        use SkipReason::*;
        let mut forms = vec![
            AiDisabled,
            SupporterNotLogging,
            OutgoingDisabled,
            IncomingDisabled,
            NoModule,
            ModuleNotCustom(id.into()),
            ModuleInsightsDisabled(id.into()),
            PlatformUnsupported(None),
            NoDevice,
            DeviceNotManagedNorFullClient(id.into()),
            DeviceUserNotSignedIn(id.into()),
            DeviceNotManaged(id.into()),
            NoPolicy(id.into()),
            PolicyReportsDisabled(id.into()),
            PolicyInsightsDisabled(id.into()),
            DeviceUserOptedOut(id.into()),
            DeviceDeniesConsent(id.into()),
            ConsentDenied,
            AwaitingConsent,
            NoCredits,
        ];
        forms.extend(LicenseTier::ALL.map(TierWithoutInsights));
        forms.extend(Platform::ALL.map(|platform| PlatformUnsupported(Some(platform))));
        forms
    }

    /// A stable name of the reason's kind (`module_not_custom`), for labels and clients.
    pub fn key(&self) -> &'static str {
        use SkipReason::*;
        match self {
            TierWithoutInsights(_) => "tier",
            AiDisabled => "ai_off",
            SupporterNotLogging => "supporter_not_logging",
            OutgoingDisabled => "outgoing_off",
            IncomingDisabled => "incoming_off",
            NoModule => "no_module",
            ModuleNotCustom(_) => "module_not_custom",
            ModuleInsightsDisabled(_) => "module_off",
            PlatformUnsupported(Some(_)) => "platform",
            PlatformUnsupported(None) => "no_platform",
            NoDevice => "no_device",
            DeviceNotManagedNorFullClient(_) => "device_unmanaged_client",
            DeviceUserNotSignedIn(_) => "device_not_signed_in",
            DeviceNotManaged(_) => "device_not_managed",
            NoPolicy(_) => "no_policy",
            PolicyReportsDisabled(_) => "policy_reports_off",
            PolicyInsightsDisabled(_) => "policy_insights_off",
            DeviceUserOptedOut(_) => "user_opted_out",
            DeviceDeniesConsent(_) => "device_denies",
            ConsentDenied => "consent_denied",
            AwaitingConsent => "awaiting_consent",
            NoCredits => "no_credits",
        }
    }

    /// What the reason names: the tier, module, platform, device or policy.
    pub fn parameter(&self) -> Option<String> {
        use SkipReason::*;
        match self {
            TierWithoutInsights(tier) => Some(tier.to_string()),
            PlatformUnsupported(platform) => platform.map(|platform| platform.as_str().into()),
            ModuleNotCustom(id)
            | ModuleInsightsDisabled(id)
            | DeviceNotManagedNorFullClient(id)
            | DeviceUserNotSignedIn(id)
            | DeviceNotManaged(id)
            | NoPolicy(id)
            | PolicyReportsDisabled(id)
            | PolicyInsightsDisabled(id)
            | DeviceUserOptedOut(id)
            | DeviceDeniesConsent(id) => Some(id.clone()),
            AiDisabled | SupporterNotLogging | OutgoingDisabled | IncomingDisabled | NoModule
            | NoDevice | ConsentDenied | AwaitingConsent | NoCredits => None,
        }
    }

    /// Whether no later change can make the session eligible: a remote user's or device's
    /// refusal is final.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            SkipReason::ConsentDenied | SkipReason::DeviceDeniesConsent(_)
        )
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SkipReason::*;
        match self {
            TierWithoutInsights(tier) => write!(
                formatter,
                "tier {tier} has no session insights (not available on your plan)"
            ),
            AiDisabled => formatter.write_str("ai.enabled is off for the company"),
            SupporterNotLogging => formatter
                .write_str("the supporter does not log sessions for connection reports"),
            OutgoingDisabled => formatter.write_str("insights.outgoing is off"),
            IncomingDisabled => formatter.write_str("insights.incoming is off"),
            NoModule => formatter
                .write_str("outgoing scope is custom_modules_only and the session names no module"),
            ModuleNotCustom(id) => write!(
                formatter,
                "outgoing scope is custom_modules_only and module {id} is not custom"
            ),
            ModuleInsightsDisabled(id) => write!(
                formatter,
                "outgoing scope is custom_modules_only and module {id} has insights disabled"
            ),
            PlatformUnsupported(Some(platform)) => {
                write!(formatter, "platform {} is not supported", platform.as_str())
            }
            PlatformUnsupported(None) => {
                formatter.write_str("the session names no platform; only windows and macos are supported")
            }
            NoDevice => formatter.write_str("incoming session names no device"),
            DeviceNotManagedNorFullClient(id) => write!(
                formatter,
                "incoming scope is all_devices and device {id} is neither managed nor running the full client"
            ),
            DeviceUserNotSignedIn(id) => write!(
                formatter,
                "incoming scope is all_devices and the user of device {id} is not signed in with an account of the company"
            ),
            DeviceNotManaged(id) => write!(
                formatter,
                "incoming scope is managed_with_policy and device {id} is not managed"
            ),
            NoPolicy(id) => write!(
                formatter,
                "incoming scope is managed_with_policy and device {id} has no policy"
            ),
            PolicyReportsDisabled(id) => {
                write!(formatter, "policy {id} has connection reports disabled")
            }
            PolicyInsightsDisabled(id) => {
                write!(formatter, "policy {id} has session insights disabled")
            }
            DeviceUserOptedOut(id) => write!(
                formatter,
                "the user of device {id} turned session insights off on the device"
            ),
            DeviceDeniesConsent(id) => write!(
                formatter,
                "device {id} denies session insights (consent mode denied)"
            ),
            ConsentDenied => formatter.write_str("remote user denied consent"),
            AwaitingConsent => formatter.write_str("waiting for the remote user's consent"),
            NoCredits => formatter.write_str(
                "no AI credits are left (out-of-credits mode stop): buy add-on credits or wait for the monthly grant",
            ),
        }
    }
}

/// A stored reason that is not one [`SkipReason`] writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a skip reason")]
pub struct UnknownSkipReason(pub String);

impl std::str::FromStr for SkipReason {
    type Err = UnknownSkipReason;

    /// Reads a reason back from the text [`fmt::Display`] wrote (as sessions store it): the
    /// forms are the display's own, so the two cannot drift apart.
    fn from_str(text: &str) -> Result<Self, UnknownSkipReason> {
        let forms = SkipReason::every_form(PARAMETER_MARK);
        for (index, form) in forms.iter().enumerate() {
            let written = form.to_string();
            match written.split_once(PARAMETER_MARK) {
                None if written == text => return Ok(form.clone()),
                None => {}
                Some((before, after)) => {
                    let parameter = text
                        .strip_prefix(before)
                        .and_then(|rest| rest.strip_suffix(after))
                        .filter(|id| !id.is_empty());
                    if let Some(id) = parameter {
                        return Ok(SkipReason::every_form(id).swap_remove(index));
                    }
                }
            }
        }
        Err(UnknownSkipReason(text.to_string()))
    }
}

/// The answer for one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eligibility {
    Eligible,
    Skipped(SkipReason),
}

/// Whether a session gets a summary, and if not, the first rule that said no. The rules
/// are checked in this order: plan, `ai.enabled`, the supporter's setting, the direction's
/// switch and scope, the platform, the device's own opt-out, consent. A refusal of consent
/// wins over every other answer: nothing can make that session eligible.
pub fn eligibility(facts: &SessionFacts<'_>) -> Eligibility {
    match first_refusal(facts) {
        None => Eligibility::Eligible,
        Some(reason) => Eligibility::Skipped(reason),
    }
}

fn first_refusal(facts: &SessionFacts<'_>) -> Option<SkipReason> {
    let remote = facts.channel == Channel::RemoteSession;
    let consent = remote.then(|| consent_refusal(facts)).flatten();
    if let Some(reason) = consent.as_ref().filter(|reason| reason.is_final()) {
        return Some(reason.clone());
    }
    if !facts.tier.has_insights() {
        return Some(SkipReason::TierWithoutInsights(facts.tier));
    }
    let settings = facts.settings;
    if !settings.ai.enabled {
        return Some(SkipReason::AiDisabled);
    }
    if !facts.supporter_logs_sessions {
        return Some(SkipReason::SupporterNotLogging);
    }
    let incoming = remote && facts.direction == Some(Direction::Incoming);
    let scope = if incoming {
        incoming_refusal(facts)
    } else {
        outgoing_refusal(facts)
    };
    if scope.is_some() {
        return scope;
    }
    if !remote {
        return None;
    }
    if !matches!(facts.platform, Some(Platform::Windows | Platform::Macos)) {
        return Some(SkipReason::PlatformUnsupported(facts.platform));
    }
    if let Some(device) = facts.device {
        let enforced = facts.policy.is_some_and(|policy| policy.enforced);
        if device.user_opted_out && !enforced {
            return Some(SkipReason::DeviceUserOptedOut(device.id.clone()));
        }
    }
    consent
}

fn consent_refusal(facts: &SessionFacts<'_>) -> Option<SkipReason> {
    match (facts.consent_mode, facts.consent) {
        (ConsentMode::Denied, _) => Some(SkipReason::DeviceDeniesConsent(
            facts
                .device
                .map_or_else(|| "unknown".to_string(), |device| device.id.clone()),
        )),
        (ConsentMode::Allowed, _) => None,
        (ConsentMode::AfterConfirmation, ConsentAnswer::Allowed) => None,
        (ConsentMode::AfterConfirmation, ConsentAnswer::Denied) => Some(SkipReason::ConsentDenied),
        (ConsentMode::AfterConfirmation, ConsentAnswer::None) => Some(SkipReason::AwaitingConsent),
    }
}

fn outgoing_refusal(facts: &SessionFacts<'_>) -> Option<SkipReason> {
    let outgoing = facts.settings.insights.outgoing;
    if !outgoing.enabled {
        return Some(SkipReason::OutgoingDisabled);
    }
    if outgoing.scope == OutgoingScope::CustomModulesOnly {
        let Some(module) = facts.module else {
            return Some(SkipReason::NoModule);
        };
        if !module.custom {
            return Some(SkipReason::ModuleNotCustom(module.id.clone()));
        }
        if !module.insights_enabled {
            return Some(SkipReason::ModuleInsightsDisabled(module.id.clone()));
        }
    }
    None
}

fn incoming_refusal(facts: &SessionFacts<'_>) -> Option<SkipReason> {
    let incoming = facts.settings.insights.incoming;
    if !incoming.enabled {
        return Some(SkipReason::IncomingDisabled);
    }
    let Some(device) = facts.device else {
        return Some(SkipReason::NoDevice);
    };
    match incoming.scope {
        IncomingScope::AllDevices => {
            if !device.managed && !device.full_client {
                return Some(SkipReason::DeviceNotManagedNorFullClient(device.id.clone()));
            }
            if !device.signed_in_company_account {
                return Some(SkipReason::DeviceUserNotSignedIn(device.id.clone()));
            }
        }
        IncomingScope::ManagedWithPolicy => {
            if !device.managed {
                return Some(SkipReason::DeviceNotManaged(device.id.clone()));
            }
            let Some(policy) = facts.policy else {
                return Some(SkipReason::NoPolicy(device.id.clone()));
            };
            if !policy.reports_enabled {
                return Some(SkipReason::PolicyReportsDisabled(policy.id.clone()));
            }
            if !policy.insights_enabled {
                return Some(SkipReason::PolicyInsightsDisabled(policy.id.clone()));
            }
        }
    }
    None
}

/// A support module as the company registers it (ingested sessions add unknown ones, not
/// custom and with insights disabled unless the session says it is custom).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Module {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub insights_enabled: bool,
}

impl Module {
    /// What eligibility reads of module `id`.
    pub fn facts(&self, id: &str) -> ModuleFacts {
        ModuleFacts {
            id: id.to_string(),
            custom: self.custom,
            insights_enabled: self.insights_enabled,
        }
    }
}

/// A device as the company registers it (ingested sessions add unknown ones from what the
/// session says of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub managed: bool,
    #[serde(default)]
    pub full_client: bool,
    /// Its user is signed in with an account linked to the company.
    #[serde(default)]
    pub signed_in_company_account: bool,
    #[serde(default)]
    pub consent_mode: ConsentMode,
    /// The id of the policy assigned to it (managed devices only).
    #[serde(default)]
    pub policy: Option<String>,
    /// Its user turned session insights off on the device (ignored under an enforced policy).
    #[serde(default)]
    pub user_opted_out: bool,
}

impl Device {
    /// What eligibility reads of device `id`.
    pub fn facts(&self, id: &str) -> DeviceFacts {
        DeviceFacts {
            id: id.to_string(),
            managed: self.managed,
            full_client: self.full_client,
            signed_in_company_account: self.signed_in_company_account,
            user_opted_out: self.user_opted_out,
        }
    }
}

/// A policy: its "connection reports and session insights" setting, with both toggles, and
/// whether the device's user may change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub name: Option<String>,
    pub reports_enabled: bool,
    pub insights_enabled: bool,
    #[serde(default)]
    pub enforced: bool,
}

impl Policy {
    /// What eligibility reads of policy `id`.
    pub fn facts(&self, id: &str) -> PolicyFacts {
        PolicyFacts {
            id: id.to_string(),
            reports_enabled: self.reports_enabled,
            insights_enabled: self.insights_enabled,
            enforced: self.enforced,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_skip_reason_reads_back_from_its_text() {
        for id in ["qs-1", "device with spaces", "has no policy"] {
            for reason in SkipReason::every_form(id) {
                assert_eq!(reason.to_string().parse::<SkipReason>(), Ok(reason.clone()));
                assert!(!reason.key().is_empty());
            }
        }
        assert!("something new".parse::<SkipReason>().is_err());
        assert_eq!(
            "policy  has session insights disabled".parse::<SkipReason>(),
            Err(UnknownSkipReason(
                "policy  has session insights disabled".into()
            ))
        );
    }
}
