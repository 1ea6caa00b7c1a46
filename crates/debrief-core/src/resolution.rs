//! Automated resolutions: the conversation format (FORMATS.md section 3) and the rule engine
//! of SPEC.md section 7 that decides whether a conversation counts.
//!
//! [`evaluate`] is pure: it never calls the LLM check itself. When the rules leave the answer
//! to the check it returns [`Evaluation::NeedsJudge`] with both possible verdicts, so the
//! caller runs whichever judge is configured (sync or async) and picks one.

mod conversation;
mod evaluate;
pub mod rules;

pub use conversation::*;
pub use evaluate::*;
pub use rules::Rule;

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta, Utc};
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::*;

    const T0: &str = "2026-06-01T09:00:00Z";

    fn at(minutes: i64) -> String {
        (T0.parse::<DateTime<Utc>>().expect("time") + TimeDelta::minutes(minutes)).to_rfc3339()
    }

    fn conversation(agent: &str, status: Option<&str>, events: Vec<Value>) -> Conversation {
        let mut record = json!({"id": "c-1", "agent": agent, "events": events});
        if let Some(status) = status {
            record["status"] = json!(status);
        }
        Conversation::parse_json(&record.to_string()).expect("valid conversation")
    }

    fn event(minutes: i64, kind: &str, fields: Value) -> Value {
        let mut event = json!({"at": at(minutes), "type": kind});
        if let (Some(target), Some(extra)) = (event.as_object_mut(), fields.as_object()) {
            target.extend(extra.clone());
        }
        event
    }

    fn user(minutes: i64) -> Value {
        event(
            minutes,
            "message",
            json!({"from": "end_user", "text": "help"}),
        )
    }

    fn ai(minutes: i64) -> Value {
        event(
            minutes,
            "message",
            json!({"from": "ai_agent", "text": "try this"}),
        )
    }

    fn days_later(days: i64) -> DateTime<Utc> {
        T0.parse::<DateTime<Utc>>().expect("time") + TimeDelta::days(days)
    }

    fn rule_of(
        conversation: &Conversation,
        as_of: DateTime<Utc>,
        judge: bool,
    ) -> (VerdictKind, &'static str) {
        let verdict = evaluate(conversation, as_of).resolve_with(|| judge);
        (verdict.verdict, verdict.rule.as_str())
    }

    #[test]
    fn a_human_request_decides_even_while_the_window_is_open() {
        let escalated = conversation(
            "messaging_ai_agent",
            Some("handled_by_ai"),
            vec![
                user(0),
                ai(1),
                event(2, "escalated", json!({"to": "tier2"})),
            ],
        );

        let verdict = evaluate(&escalated, days_later(0)).resolve_with(|| true);

        assert_eq!(
            (verdict.verdict, verdict.rule),
            (VerdictKind::NotCounted, rules::NEVER_ESCALATED)
        );
        assert_eq!(verdict.decided_at, Some(escalated.events[2].at));
    }

    #[test]
    fn the_earliest_human_request_decides_the_rule_whatever_the_input_order() {
        let both = conversation(
            "web_widget_classic",
            None,
            vec![
                event(9, "live_chat_started", json!({})),
                user(0),
                event(5, "callback_requested", json!({})),
            ],
        );

        assert_eq!(
            rule_of(&both, days_later(10), true),
            (VerdictKind::NotCounted, "never.callback")
        );
    }

    #[test]
    fn an_escalated_status_alone_decides_at_the_due_time() {
        let escalated = conversation(
            "advanced_ticket_agent",
            Some("escalated"),
            vec![user(0), ai(1)],
        );
        let empty = conversation("advanced_ticket_agent", Some("escalated"), vec![]);

        let verdict = evaluate(&escalated, days_later(0)).resolve_with(|| true);
        let empty_verdict = evaluate(&empty, days_later(0)).resolve_with(|| true);

        assert_eq!(verdict.rule, rules::NEVER_ESCALATED);
        assert_eq!(
            verdict.decided_at,
            Some(escalated.events[0].at + TimeDelta::hours(WINDOW_HOURS))
        );
        assert_eq!(
            (empty_verdict.verdict, empty_verdict.decided_at),
            (VerdictKind::NotCounted, None)
        );
    }

    #[test]
    fn a_conversation_without_events_is_pending() {
        let empty = conversation("messaging_ai_agent", Some("handled_by_ai"), vec![]);

        assert_eq!(
            rule_of(&empty, days_later(400), true),
            (VerdictKind::Pending, "messaging.window_open")
        );
    }

    #[test]
    fn due_is_inclusive() {
        let ticket = conversation(
            "advanced_ticket_agent",
            Some("replied"),
            vec![user(0), ai(1)],
        );
        let due = ticket.events[0].at + TimeDelta::hours(WINDOW_HOURS);

        assert_eq!(
            rule_of(&ticket, due - TimeDelta::seconds(1), true).0,
            VerdictKind::Pending
        );
        let verdict = evaluate(&ticket, due).resolve_with(|| true);
        assert_eq!(
            (verdict.rule, verdict.decided_at),
            (rules::ADVANCED_TICKET_REPLIED, Some(due))
        );
    }

    #[test]
    fn advanced_chat_uses_its_configured_session_duration() {
        let mut record = json!({"id": "c", "agent": "advanced_chat_agent", "status": "handled_by_ai",
                                "session_duration_hours": 2, "events": [user(0), ai(1)]});
        let short = Conversation::parse_json(&record.to_string()).expect("valid");
        record["session_duration_hours"] = json!(0);

        assert_eq!(
            rule_of(&short, days_later(0) + TimeDelta::hours(2), true).1,
            "advanced_chat.handled"
        );
        assert_eq!(
            rule_of(&short, days_later(0) + TimeDelta::minutes(119), true).0,
            VerdictKind::Pending
        );
        assert_eq!(
            Conversation::parse_json(&record.to_string())
                .expect_err("zero hours")
                .field
                .as_deref(),
            Some("session_duration_hours")
        );
    }

    #[test]
    fn negative_feedback_is_checked_before_not_understood() {
        let both = conversation(
            "messaging_ai_agent",
            Some("handled_by_ai"),
            vec![
                user(0),
                event(1, "not_understood", json!({})),
                event(2, "feedback", json!({"value": "negative"})),
            ],
        );
        let understood_earlier = conversation(
            "messaging_ai_agent",
            Some("handled_by_ai"),
            vec![
                user(0),
                event(1, "not_understood", json!({})),
                user(2),
                ai(3),
            ],
        );

        assert_eq!(
            rule_of(&both, days_later(5), true).1,
            "never.negative_feedback"
        );
        assert_eq!(
            rule_of(&understood_earlier, days_later(5), true).1,
            "messaging.ai_judged_resolved"
        );
    }

    #[test]
    fn a_click_counts_only_after_its_share_with_equal_times_in_input_order() {
        let share = event(
            1,
            "article_shared",
            json!({"article": "kb-1", "via": "recommendation"}),
        );
        let click = event(1, "article_click", json!({"article": "kb-1"}));
        let in_order = conversation(
            "messaging_ai_agent",
            None,
            vec![user(0), share.clone(), click.clone()],
        );
        let reversed = conversation("messaging_ai_agent", None, vec![user(0), click, share]);

        assert_eq!(
            rule_of(&in_order, days_later(5), true).1,
            "messaging.article_clicked"
        );
        assert_eq!(
            rule_of(&reversed, days_later(5), true).1,
            "messaging.ai_judged_resolved"
        );
        assert_eq!(
            rule_of(&reversed, days_later(5), false).1,
            "messaging.not_resolved"
        );
    }

    #[test]
    fn messaging_signals_before_the_last_user_message_do_not_count() {
        let earlier_feedback = conversation(
            "messaging_ai_agent",
            None,
            vec![
                user(0),
                event(1, "feedback", json!({"value": "positive"})),
                user(2),
                ai(3),
            ],
        );

        assert_eq!(
            rule_of(&earlier_feedback, days_later(5), false).1,
            "messaging.not_resolved"
        );
    }

    #[test]
    fn a_private_ai_message_is_not_a_ticket_reply() {
        let private = conversation(
            "advanced_ticket_agent",
            Some("replied"),
            vec![
                user(0),
                event(
                    1,
                    "message",
                    json!({"from": "ai_agent", "text": "x", "public": false}),
                ),
            ],
        );

        assert_eq!(
            rule_of(&private, days_later(5), true).1,
            "advanced_ticket.internal_only"
        );
    }

    #[test]
    fn autoreply_articles_follow_the_exact_readings() {
        let share = || {
            event(
                0,
                "article_shared",
                json!({"article": "kb-1", "via": "autoreply"}),
            )
        };
        let click_at = |minutes| event(minutes, "article_click", json!({"article": "kb-1"}));
        let solved_at = |minutes| event(minutes, "status_changed", json!({"to": "solved"}));
        let late_click = conversation(
            "autoreply_articles",
            None,
            vec![share(), click_at(72 * 60 + 1)],
        );
        let click_in_time =
            conversation("autoreply_articles", None, vec![share(), click_at(72 * 60)]);
        let reply_first = conversation(
            "autoreply_articles",
            None,
            vec![share(), click_at(5), user(6), solved_at(7)],
        );
        let solved_first = conversation(
            "autoreply_articles",
            None,
            vec![share(), click_at(5), solved_at(6), user(7)],
        );
        let close_only = conversation(
            "autoreply_articles",
            None,
            vec![
                user(0),
                event(3, "close_request_click", json!({"where": "email"})),
            ],
        );

        assert_eq!(
            rule_of(&late_click, days_later(10), true).1,
            "autoreply_articles.no_click"
        );
        assert_eq!(
            rule_of(&click_in_time, days_later(10), true).1,
            "autoreply_articles.clicked_no_reply"
        );
        assert_eq!(
            rule_of(&reply_first, days_later(10), true).1,
            "autoreply_articles.replied"
        );
        assert_eq!(
            rule_of(&solved_first, days_later(10), true).1,
            "autoreply_articles.clicked_no_reply"
        );
        assert_eq!(
            rule_of(&close_only, days_later(10), true).1,
            "autoreply_articles.close_request"
        );
    }

    #[test]
    fn autoreply_triage_counts_replies_within_72_hours_inclusive() {
        let autoreply = || event(0, "autoreply", json!({"trigger": "triage"}));
        let at_limit = conversation("autoreply_triage", None, vec![autoreply(), user(72 * 60)]);
        let after_limit = conversation(
            "autoreply_triage",
            None,
            vec![autoreply(), user(72 * 60 + 1)],
        );
        let internal = conversation(
            "autoreply_triage",
            None,
            vec![
                autoreply(),
                event(
                    5,
                    "message",
                    json!({"from": "human_agent", "text": "x", "public": false}),
                ),
            ],
        );
        let none = conversation("autoreply_triage", None, vec![user(0)]);

        assert_eq!(
            rule_of(&at_limit, days_later(10), true).1,
            "autoreply_triage.replied"
        );
        assert_eq!(
            rule_of(&after_limit, days_later(10), true).1,
            "autoreply_triage.no_reply"
        );
        assert_eq!(
            rule_of(&internal, days_later(10), true).1,
            "autoreply_triage.no_reply"
        );
        assert_eq!(
            rule_of(&none, days_later(10), true).1,
            "autoreply_triage.no_autoreply"
        );
    }

    #[test]
    fn web_widget_sessions_end_when_the_tab_closes() {
        let recommend = event(
            1,
            "article_shared",
            json!({"article": "kb-1", "via": "recommendation"}),
        );
        let closed = conversation(
            "web_widget_classic",
            None,
            vec![
                user(0),
                recommend.clone(),
                event(3, "feedback", json!({"value": "positive"})),
                event(4, "session_closed", json!({"reason": "tab_closed"})),
            ],
        );
        let feedback_only = conversation(
            "web_widget_classic",
            None,
            vec![user(0), event(3, "feedback", json!({"value": "positive"}))],
        );

        let verdict =
            evaluate(&closed, days_later(0) + TimeDelta::minutes(4)).resolve_with(|| true);
        assert_eq!(verdict.rule.as_str(), "web_widget.positive_feedback");
        assert_eq!(verdict.decided_at, Some(closed.events[3].at));
        assert_eq!(
            rule_of(&feedback_only, days_later(10), true).1,
            "web_widget.no_article_engagement"
        );
    }

    #[test]
    fn documents_merge_fields_and_take_each_event_once() {
        let (mut stored, _) = ConversationDocument::parse(
            &json!({"id": "c", "agent": "advanced_ticket_agent", "status": "open",
                    "events": [user(0), {"id": "e-1", "at": at(1), "type": "message", "from": "ai_agent", "text": "x"}]})
                .to_string(),
        )
        .expect("valid");
        let (newer, _) = ConversationDocument::parse(
            &json!({"id": "c", "agent": "advanced_ticket_agent", "status": "replied",
                    "events": [user(0), {"id": "e-1", "at": at(1), "type": "message", "from": "ai_agent", "text": "changed"}, ai(5)]})
                .to_string(),
        )
        .expect("valid");

        stored.merge(newer);
        let added = stored.append_events(vec![
            ai(5),
            event(6, "feedback", json!({"id": "f", "value": "positive"})),
        ]);

        let conversation = stored.conversation().expect("valid");
        assert_eq!(conversation.status, Some(ConversationStatus::Replied));
        assert_eq!(conversation.events.len(), 4);
        assert_eq!(added, 1);
    }

    #[test]
    fn invalid_records_name_the_field() {
        let field = |record: Value| {
            Conversation::parse_json(&record.to_string())
                .expect_err("rejected")
                .field
                .unwrap_or_default()
        };

        assert_eq!(field(json!({"id": "c", "agent": "robot"})), "agent");
        assert_eq!(field(json!({"agent": "messaging_ai_agent"})), "id");
        assert_eq!(
            field(
                json!({"id": "c", "agent": "messaging_ai_agent", "events": [user(0), {"at": at(1), "type": "message", "from": "alien"}]})
            ),
            "events[1].from"
        );
        assert_eq!(
            field(
                json!({"id": "c", "agent": "messaging_ai_agent", "events": [{"type": "message"}]})
            ),
            "events[0].at"
        );
        assert_eq!(
            field(
                json!({"id": "c", "agent": "messaging_ai_agent", "events": [{"at": at(0), "type": "feedback", "value": "meh"}]})
            ),
            "events[0].value"
        );
        assert_eq!(
            field(
                json!({"id": "c", "agent": "messaging_ai_agent", "events": [{"at": at(0), "type": "autoreply", "trigger": "magic"}]})
            ),
            "events[0].trigger"
        );
        assert_eq!(
            field(
                json!({"id": "c", "agent": "messaging_ai_agent", "events": [{"at": at(0), "type": "status_changed", "to": "gone"}]})
            ),
            "events[0].to"
        );
        let unknown_type = json!({"id": "c", "agent": "messaging_ai_agent", "events": [{"at": at(0), "type": "typing", "speed": 3}]});
        let parsed =
            Conversation::parse_json(&unknown_type.to_string()).expect("unknown types are ignored");
        assert_eq!(parsed.events[0].kind, EventKind::Other);
    }

    fn event_strategy() -> impl Strategy<Value = Value> {
        let kinds = prop_oneof![
            Just(json!({"type": "message", "from": "end_user", "text": "hi"})),
            Just(json!({"type": "message", "from": "ai_agent", "text": "answer"})),
            Just(
                json!({"type": "message", "from": "human_agent", "text": "note", "public": false})
            ),
            Just(json!({"type": "article_shared", "article": "kb-1", "via": "recommendation"})),
            Just(json!({"type": "article_shared", "article": "kb-1", "via": "generative"})),
            Just(json!({"type": "article_shared", "article": "kb-2", "via": "autoreply"})),
            Just(json!({"type": "article_click", "article": "kb-1"})),
            Just(json!({"type": "article_click", "article": "kb-2"})),
            Just(json!({"type": "feedback", "value": "positive"})),
            Just(json!({"type": "close_request_click"})),
            Just(json!({"type": "flow_final_step"})),
            Just(json!({"type": "autoreply", "trigger": "triage"})),
            Just(json!({"type": "status_changed", "to": "solved"})),
            Just(json!({"type": "session_closed"})),
        ];
        (kinds, 0i64..6000).prop_map(|(mut event, minutes)| {
            event["at"] = json!(at(minutes));
            event
        })
    }

    fn agent_strategy() -> impl Strategy<Value = (&'static str, &'static str)> {
        prop_oneof![
            Just(("messaging_ai_agent", "handled_by_ai")),
            Just(("advanced_chat_agent", "handled_by_ai")),
            Just(("advanced_ticket_agent", "replied")),
            Just(("autoreply_articles", "open")),
            Just(("autoreply_triage", "open")),
            Just(("web_widget_classic", "open")),
        ]
    }

    proptest! {
        #[test]
        fn the_verdict_is_final_from_its_decidable_moment_on(
            (agent, status) in agent_strategy(),
            events in proptest::collection::vec(event_strategy(), 0..12),
            escalate in any::<bool>(),
        ) {
            let mut events = events;
            if escalate {
                events.push(event(30, "escalated", json!({})));
            }
            let conversation = conversation(agent, Some(status), events);

            match decidable_at(&conversation) {
                None => prop_assert_eq!(
                    evaluate(&conversation, days_later(400)).resolve_with(|| true).verdict,
                    VerdictKind::Pending
                ),
                Some(at) => {
                    prop_assert_ne!(evaluate(&conversation, at).resolve_with(|| true).verdict, VerdictKind::Pending);
                    if at > DateTime::<Utc>::MIN_UTC {
                        let before = at - TimeDelta::seconds(1);
                        prop_assert_eq!(evaluate(&conversation, before).resolve_with(|| true).verdict, VerdictKind::Pending);
                    }
                }
            }
        }

        #[test]
        fn a_human_request_makes_any_conversation_not_counted(
            (agent, status) in agent_strategy(),
            events in proptest::collection::vec(event_strategy(), 1..12),
            request in prop_oneof![Just("escalated"), Just("live_chat_started"), Just("contact_form_submitted"), Just("callback_requested")],
            minutes in 0i64..6000,
        ) {
            let mut with_request = events.clone();
            with_request.push(event(minutes, request, json!({})));
            let conversation = conversation(agent, Some(status), with_request);

            let verdict = evaluate(&conversation, days_later(30)).resolve_with(|| true);

            prop_assert_eq!(verdict.verdict, VerdictKind::NotCounted);
            prop_assert!(verdict.rule.as_str().starts_with("never."));
        }

        #[test]
        fn the_verdict_does_not_depend_on_the_order_events_were_received(
            (agent, status) in agent_strategy(),
            events in proptest::collection::vec(event_strategy(), 1..12),
            seed in any::<u64>(),
            as_of_days in 0i64..8,
        ) {
            // Distinct times, so that time order alone fixes the sequence.
            let distinct: Vec<Value> = events.into_iter().enumerate().map(|(index, mut event)| {
                let minutes = index as i64 * 997 % 6000 * 10 + index as i64;
                event["at"] = json!(at(minutes));
                event
            }).collect();
            let mut shuffled = distinct.clone();
            let mut state = seed;
            for index in (1..shuffled.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(index, (state >> 33) as usize % (index + 1));
            }
            let as_of = days_later(as_of_days);

            let original = evaluate(&conversation(agent, Some(status), distinct), as_of).resolve_with(|| true);
            let received = evaluate(&conversation(agent, Some(status), shuffled), as_of).resolve_with(|| true);

            prop_assert_eq!(original, received);
        }
    }
}
