//! The rules of SPEC section 2, one table row per rule and combination, and properties that
//! hold for every combination.

use debrief_core::governance::{
    eligibility, AiSettings, ConsentMode, DeviceFacts, Eligibility, IncomingScope, ModuleFacts,
    OutgoingScope, PolicyFacts, SessionFacts,
};
use debrief_core::session::{Channel, ConsentAnswer, Direction, Platform};
use debrief_core::tenancy::LicenseTier;
use proptest::prelude::*;

/// A session with everything it needs, which each row then changes.
#[derive(Debug, Clone)]
struct Case {
    settings: AiSettings,
    tier: LicenseTier,
    channel: Channel,
    direction: Option<Direction>,
    platform: Option<Platform>,
    device: Option<DeviceFacts>,
    module: Option<ModuleFacts>,
    policy: Option<PolicyFacts>,
    consent_mode: ConsentMode,
    consent: ConsentAnswer,
    supporter_logs_sessions: bool,
}

impl Case {
    fn outgoing() -> Case {
        let mut settings = AiSettings::default();
        settings.ai.enabled = true;
        settings.insights.outgoing.enabled = true;
        settings.insights.incoming.enabled = true;
        Case {
            settings,
            tier: LicenseTier::Business,
            channel: Channel::RemoteSession,
            direction: Some(Direction::Outgoing),
            platform: Some(Platform::Windows),
            device: Some(DeviceFacts {
                id: "d-1".into(),
                managed: true,
                full_client: true,
                signed_in_company_account: true,
                user_opted_out: false,
            }),
            module: Some(ModuleFacts {
                id: "qs-1".into(),
                custom: true,
                insights_enabled: true,
            }),
            policy: Some(PolicyFacts {
                id: "pol-1".into(),
                reports_enabled: true,
                insights_enabled: true,
                enforced: false,
            }),
            consent_mode: ConsentMode::AfterConfirmation,
            consent: ConsentAnswer::Allowed,
            supporter_logs_sessions: true,
        }
    }

    fn incoming() -> Case {
        Case {
            direction: Some(Direction::Incoming),
            ..Case::outgoing()
        }
    }

    fn with(mut self, change: impl FnOnce(&mut Case)) -> Case {
        change(&mut self);
        self
    }

    fn decide(&self) -> Eligibility {
        eligibility(&SessionFacts {
            settings: &self.settings,
            tier: self.tier,
            channel: self.channel,
            direction: self.direction,
            platform: self.platform,
            device: self.device.as_ref(),
            module: self.module.as_ref(),
            policy: self.policy.as_ref(),
            consent_mode: self.consent_mode,
            consent: self.consent,
            supporter_logs_sessions: self.supporter_logs_sessions,
        })
    }

    /// `"eligible"`, or the skip reason as stored and shown.
    fn answer(&self) -> String {
        match self.decide() {
            Eligibility::Eligible => "eligible".into(),
            Eligibility::Skipped(reason) => reason.to_string(),
        }
    }
}

fn device(case: &mut Case) -> &mut DeviceFacts {
    case.device.as_mut().expect("the base case has a device")
}

fn policy(case: &mut Case) -> &mut PolicyFacts {
    case.policy.as_mut().expect("the base case has a policy")
}

fn module(case: &mut Case) -> &mut ModuleFacts {
    case.module.as_mut().expect("the base case has a module")
}

#[test]
fn every_rule_of_section_2_and_their_combinations() {
    let custom_only =
        |case: &mut Case| case.settings.insights.outgoing.scope = OutgoingScope::CustomModulesOnly;
    let with_policy =
        |case: &mut Case| case.settings.insights.incoming.scope = IncomingScope::ManagedWithPolicy;
    let table: Vec<(&str, Case, &str)> = vec![
        // Plans
        ("business outgoing", Case::outgoing(), "eligible"),
        ("premium", Case::outgoing().with(|c| c.tier = LicenseTier::Premium), "eligible"),
        ("corporate", Case::outgoing().with(|c| c.tier = LicenseTier::Corporate), "eligible"),
        ("tensor", Case::outgoing().with(|c| c.tier = LicenseTier::Tensor), "eligible"),
        ("standard tier", Case::outgoing().with(|c| c.tier = LicenseTier::Standard),
         "tier standard has no session insights (not available on your plan)"),
        // Master switch
        ("ai off", Case::outgoing().with(|c| c.settings.ai.enabled = false), "ai.enabled is off for the company"),
        ("ai off, incoming", Case::incoming().with(|c| c.settings.ai.enabled = false), "ai.enabled is off for the company"),
        ("ai off, standard tier: the plan is named first",
         Case::outgoing().with(|c| { c.settings.ai.enabled = false; c.tier = LicenseTier::Standard }),
         "tier standard has no session insights (not available on your plan)"),
        ("defaults: everything off", Case::outgoing().with(|c| c.settings = AiSettings::default()), "ai.enabled is off for the company"),
        // Outgoing
        ("outgoing off", Case::outgoing().with(|c| c.settings.insights.outgoing.enabled = false), "insights.outgoing is off"),
        ("outgoing off does not stop incoming", Case::incoming().with(|c| c.settings.insights.outgoing.enabled = false), "eligible"),
        ("outgoing scope all without a module", Case::outgoing().with(|c| c.module = None), "eligible"),
        ("outgoing scope all, module not custom", Case::outgoing().with(|c| module(c).custom = false), "eligible"),
        ("custom modules only, custom module with insights", Case::outgoing().with(custom_only), "eligible"),
        ("custom modules only, no module", Case::outgoing().with(custom_only).with(|c| c.module = None),
         "outgoing scope is custom_modules_only and the session names no module"),
        ("custom modules only, module not custom", Case::outgoing().with(custom_only).with(|c| module(c).custom = false),
         "outgoing scope is custom_modules_only and module qs-1 is not custom"),
        ("custom modules only, module insights off", Case::outgoing().with(custom_only).with(|c| module(c).insights_enabled = false),
         "outgoing scope is custom_modules_only and module qs-1 has insights disabled"),
        ("outgoing ignores the device's management", Case::outgoing().with(|c| { device(c).managed = false; device(c).full_client = false; device(c).signed_in_company_account = false }), "eligible"),
        ("outgoing ignores policies", Case::outgoing().with(|c| c.policy = None), "eligible"),
        ("remote session without direction counts as outgoing", Case::outgoing().with(|c| { c.direction = None; c.settings.insights.outgoing.enabled = false }), "insights.outgoing is off"),
        // Incoming, all devices
        ("incoming all devices", Case::incoming(), "eligible"),
        ("incoming off", Case::incoming().with(|c| c.settings.insights.incoming.enabled = false), "insights.incoming is off"),
        ("incoming off does not stop outgoing", Case::outgoing().with(|c| c.settings.insights.incoming.enabled = false), "eligible"),
        ("incoming, managed without full client", Case::incoming().with(|c| device(c).full_client = false), "eligible"),
        ("incoming, full client, not managed", Case::incoming().with(|c| device(c).managed = false), "eligible"),
        ("incoming, neither managed nor full client", Case::incoming().with(|c| { device(c).managed = false; device(c).full_client = false }),
         "incoming scope is all_devices and device d-1 is neither managed nor running the full client"),
        ("incoming, not signed in", Case::incoming().with(|c| device(c).signed_in_company_account = false),
         "incoming scope is all_devices and the user of device d-1 is not signed in with an account of the company"),
        ("incoming, no device", Case::incoming().with(|c| c.device = None), "incoming session names no device"),
        ("incoming all devices needs no policy", Case::incoming().with(|c| c.policy = None), "eligible"),
        ("incoming ignores modules", Case::incoming().with(custom_only).with(|c| c.module = None), "eligible"),
        // Incoming, managed with policy
        ("managed with policy", Case::incoming().with(with_policy), "eligible"),
        ("managed with policy, unmanaged", Case::incoming().with(with_policy).with(|c| device(c).managed = false),
         "incoming scope is managed_with_policy and device d-1 is not managed"),
        ("managed with policy, no policy", Case::incoming().with(with_policy).with(|c| c.policy = None),
         "incoming scope is managed_with_policy and device d-1 has no policy"),
        ("managed with policy, reports off", Case::incoming().with(with_policy).with(|c| policy(c).reports_enabled = false),
         "policy pol-1 has connection reports disabled"),
        ("managed with policy, insights off", Case::incoming().with(with_policy).with(|c| policy(c).insights_enabled = false),
         "policy pol-1 has session insights disabled"),
        ("managed with policy, both off", Case::incoming().with(with_policy).with(|c| { policy(c).reports_enabled = false; policy(c).insights_enabled = false }),
         "policy pol-1 has connection reports disabled"),
        ("managed with policy needs no sign-in", Case::incoming().with(with_policy).with(|c| device(c).signed_in_company_account = false), "eligible"),
        // Platforms
        ("macos", Case::outgoing().with(|c| c.platform = Some(Platform::Macos)), "eligible"),
        ("linux", Case::outgoing().with(|c| c.platform = Some(Platform::Linux)), "platform linux is not supported"),
        ("ios", Case::incoming().with(|c| c.platform = Some(Platform::Ios)), "platform ios is not supported"),
        ("android", Case::outgoing().with(|c| c.platform = Some(Platform::Android)), "platform android is not supported"),
        ("other", Case::outgoing().with(|c| c.platform = Some(Platform::Other)), "platform other is not supported"),
        ("no platform", Case::outgoing().with(|c| c.platform = None), "the session names no platform; only windows and macos are supported"),
        ("linux with outgoing off: the switch is named first", Case::outgoing().with(|c| { c.platform = Some(Platform::Linux); c.settings.insights.outgoing.enabled = false }), "insights.outgoing is off"),
        // Consent
        ("consent mode allowed asks nothing", Case::outgoing().with(|c| { c.consent_mode = ConsentMode::Allowed; c.consent = ConsentAnswer::None }), "eligible"),
        ("after confirmation, no answer yet", Case::outgoing().with(|c| c.consent = ConsentAnswer::None), "waiting for the remote user's consent"),
        ("after confirmation, denied", Case::outgoing().with(|c| c.consent = ConsentAnswer::Denied), "remote user denied consent"),
        ("consent mode denied", Case::incoming().with(|c| c.consent_mode = ConsentMode::Denied), "device d-1 denies session insights (consent mode denied)"),
        ("consent mode denied wins over an allowed answer", Case::outgoing().with(|c| { c.consent_mode = ConsentMode::Denied; c.consent = ConsentAnswer::Allowed }), "device d-1 denies session insights (consent mode denied)"),
        ("denied wins over ai off", Case::outgoing().with(|c| { c.consent = ConsentAnswer::Denied; c.settings.ai.enabled = false }), "remote user denied consent"),
        ("denied wins over linux", Case::outgoing().with(|c| { c.consent = ConsentAnswer::Denied; c.platform = Some(Platform::Linux) }), "remote user denied consent"),
        ("awaiting consent comes after the switches", Case::outgoing().with(|c| { c.consent = ConsentAnswer::None; c.settings.insights.outgoing.enabled = false }), "insights.outgoing is off"),
        // Supporter and device user settings
        ("supporter does not log sessions", Case::outgoing().with(|c| c.supporter_logs_sessions = false), "the supporter does not log sessions for connection reports"),
        ("supporter setting applies to incoming too", Case::incoming().with(|c| c.supporter_logs_sessions = false), "the supporter does not log sessions for connection reports"),
        ("device user opted out", Case::incoming().with(|c| device(c).user_opted_out = true), "the user of device d-1 turned session insights off on the device"),
        ("an enforced policy overrides the opt-out", Case::incoming().with(|c| { device(c).user_opted_out = true; policy(c).enforced = true }), "eligible"),
        // Other channels
        ("chat follows outgoing", Case::outgoing().with(|c| { c.channel = Channel::Chat; c.platform = None; c.device = None; c.consent = ConsentAnswer::None }), "eligible"),
        ("ticket with outgoing off", Case::outgoing().with(|c| { c.channel = Channel::Ticket; c.settings.insights.outgoing.enabled = false }), "insights.outgoing is off"),
        ("e-mail under custom modules only", Case::outgoing().with(custom_only).with(|c| { c.channel = Channel::Email; c.module = None }),
         "outgoing scope is custom_modules_only and the session names no module"),
        ("messaging ignores a denied consent field", Case::outgoing().with(|c| { c.channel = Channel::Messaging; c.consent = ConsentAnswer::Denied }), "eligible"),
    ];
    assert!(table.len() >= 40, "{} rows", table.len());
    let failures: Vec<String> = table
        .iter()
        .filter(|(_, case, expected)| case.answer() != *expected)
        .map(|(name, case, expected)| {
            format!("{name}: expected {expected:?}, got {:?}", case.answer())
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn any_case() -> impl Strategy<Value = Case> {
    (
        (
            any::<[bool; 3]>(),
            0usize..2,
            0usize..2,
            0usize..5,
            0usize..7,
        ),
        (0usize..3, 0usize..6),
        (
            proptest::option::of(any::<[bool; 4]>()),
            proptest::option::of(any::<[bool; 2]>()),
        ),
        (
            proptest::option::of(any::<[bool; 3]>()),
            0usize..3,
            0usize..3,
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (switches, out_scope, in_scope, tier, channel),
                (direction, platform),
                (device, module),
                (policy, mode, consent, logs),
            )| {
                let mut case = Case::outgoing();
                case.settings.ai.enabled = switches[0];
                case.settings.insights.outgoing.enabled = switches[1];
                case.settings.insights.incoming.enabled = switches[2];
                case.settings.insights.outgoing.scope =
                    [OutgoingScope::All, OutgoingScope::CustomModulesOnly][out_scope];
                case.settings.insights.incoming.scope =
                    [IncomingScope::AllDevices, IncomingScope::ManagedWithPolicy][in_scope];
                case.tier = LicenseTier::ALL[tier];
                case.channel = [
                    Channel::RemoteSession,
                    Channel::Messaging,
                    Channel::Chat,
                    Channel::Ticket,
                    Channel::Email,
                    Channel::WebForm,
                    Channel::WebWidget,
                ][channel];
                case.direction =
                    [None, Some(Direction::Outgoing), Some(Direction::Incoming)][direction];
                case.platform = [
                    None,
                    Some(Platform::Windows),
                    Some(Platform::Macos),
                    Some(Platform::Linux),
                    Some(Platform::Ios),
                    Some(Platform::Android),
                ][platform];
                case.device = device.map(|flags| DeviceFacts {
                    id: "d".into(),
                    managed: flags[0],
                    full_client: flags[1],
                    signed_in_company_account: flags[2],
                    user_opted_out: flags[3],
                });
                case.module = module.map(|flags| ModuleFacts {
                    id: "m".into(),
                    custom: flags[0],
                    insights_enabled: flags[1],
                });
                case.policy = policy.map(|flags| PolicyFacts {
                    id: "p".into(),
                    reports_enabled: flags[0],
                    insights_enabled: flags[1],
                    enforced: flags[2],
                });
                case.consent_mode = [
                    ConsentMode::Allowed,
                    ConsentMode::Denied,
                    ConsentMode::AfterConfirmation,
                ][mode];
                case.consent = [
                    ConsentAnswer::Allowed,
                    ConsentAnswer::Denied,
                    ConsentAnswer::None,
                ][consent];
                case.supporter_logs_sessions = logs;
                case
            },
        )
}

proptest! {
    #[test]
    fn nothing_is_summarized_while_ai_is_off(case in any_case()) {
        let case = case.with(|c| c.settings.ai.enabled = false);
        prop_assert!(case.decide() != Eligibility::Eligible);
    }

    #[test]
    fn a_denied_remote_session_is_never_summarized_and_the_refusal_is_final(case in any_case()) {
        let denied = case.clone().with(|c| { c.channel = Channel::RemoteSession; c.consent = ConsentAnswer::Denied; c.consent_mode = ConsentMode::AfterConfirmation });
        let device_denies = case.with(|c| { c.channel = Channel::RemoteSession; c.consent_mode = ConsentMode::Denied });
        for case in [denied, device_denies] {
            match case.decide() {
                Eligibility::Skipped(reason) => prop_assert!(reason.is_final(), "{reason}"),
                Eligibility::Eligible => prop_assert!(false, "a denied session was eligible"),
            }
        }
    }

    #[test]
    fn only_windows_and_macos_remote_sessions_are_summarized(case in any_case()) {
        let remote = case.channel == Channel::RemoteSession;
        if remote && case.decide() == Eligibility::Eligible {
            prop_assert!(matches!(case.platform, Some(Platform::Windows | Platform::Macos)));
        }
    }

    #[test]
    fn a_standard_tier_company_never_gets_summaries(case in any_case()) {
        prop_assert!(case.with(|c| c.tier = LicenseTier::Standard).decide() != Eligibility::Eligible);
    }
}
