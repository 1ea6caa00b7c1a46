//! Redaction as an outside audit tests it: the secrets seeded into `tests/data/secrets-corpus.jsonl`
//! (passwords said in a sentence, PINs, phone numbers, cards, IBANs, cloud keys, tokens, private
//! keys, addresses and the names of the people speaking, in five languages) are put through the
//! prompts the engines really send — the summary, the "was it solved?" judge and the
//! automated-resolution check — and none may reach a prompt; each must be replaced by a
//! placeholder of its kind. Names are known to the summary only (a speaker's `speaker_name`): the
//! judge and the check are given lines without names, so name rows are checked on the summary.
//!
//! The false-positive figure: every dialogue of the development splits in `../shared/data`
//! (DialogSum's everyday talk first) through the redactor, counting the words it replaces by
//! class.

use std::collections::BTreeMap;
use std::path::PathBuf;

use debrief_core::resolution::{rules, Conversation};
use debrief_core::Session;
use debrief_engine::judge::session_lines;
use debrief_engine::language::Language;
use debrief_engine::summarize::BuiltinEngine;
use debrief_llm::engine::{LlmJudge, LlmOptions, LlmSummarizer};
use debrief_llm::redact::{RedactedKind, Redactor};
use regex::Regex;
use serde::Deserialize;

mod support;

use support::RecordingModel;

/// A recording model whose one reply holds a summary and a verdict.
fn recorder(summary: &str) -> std::sync::Arc<RecordingModel> {
    RecordingModel::new(
        serde_json::json!({
            "title": "Sign-in problem handled", "summary": summary,
            "problem": "The customer could not sign in.", "actions": ["Checked the account."],
            "outcome": "resolved", "follow_up": "", "issue_types": [], "applications": [],
            "resolved": true, "confidence": 0.8, "rationale": "the customer confirmed"
        })
        .to_string(),
    )
}

/// One seeded secret: the line it was said in, the secret, its class and language, and the
/// speaker's name for name rows.
#[derive(Deserialize)]
struct Seeded {
    language: String,
    class: String,
    secret: String,
    text: String,
    speaker_name: Option<String>,
}

fn corpus() -> Vec<Seeded> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/secrets-corpus.jsonl");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{line}: {error}")))
        .collect()
}

fn kind_of(class: &str) -> RedactedKind {
    [
        RedactedKind::PrivateKey,
        RedactedKind::Jwt,
        RedactedKind::UrlCredentials,
        RedactedKind::Secret,
        RedactedKind::AwsKey,
        RedactedKind::ApiKey,
        RedactedKind::Email,
        RedactedKind::Iban,
        RedactedKind::CardNumber,
        RedactedKind::IpAddress,
        RedactedKind::Phone,
        RedactedKind::Person,
    ]
    .into_iter()
    .find(|kind| kind.as_str() == class)
    .unwrap_or_else(|| panic!("unknown class {class}"))
}

/// A support session: the seeded line from the customer, a reply from the service desk.
fn session_of(n: usize, seeded: &Seeded) -> Session {
    let mut customer = serde_json::json!({"speaker": "customer", "text": seeded.text});
    if let Some(name) = &seeded.speaker_name {
        customer["speaker_name"] = name.as_str().into();
    }
    let session = serde_json::json!({
        "id": format!("corpus-{n}"),
        "language": seeded.language,
        "turns": [
            {"speaker": "agent", "speaker_name": "Service Desk", "text": "Service desk, how can I help?"},
            customer,
            {"speaker": "agent", "speaker_name": "Service Desk", "text": "Thanks, I am checking it now."},
        ]
    });
    Session::parse_json(&session.to_string()).expect("a valid session")
}

/// The same line as a messaging conversation for the automated-resolution check.
fn conversation_of(n: usize, seeded: &Seeded) -> Conversation {
    let conversation = serde_json::json!({
        "id": format!("corpus-{n}"), "channel": "messaging", "agent": "messaging_ai_agent",
        "events": [
            {"at": "2026-06-01T09:00:00Z", "type": "message", "from": "end_user", "text": seeded.text},
            {"at": "2026-06-01T09:01:00Z", "type": "message", "from": "ai_agent", "text": "Thanks, I am checking it now."}
        ]
    });
    Conversation::parse_json(&conversation.to_string()).expect("a valid conversation")
}

/// The transcript part of a prompt, after the instructions.
fn data_of(prompt: &str) -> &str {
    prompt
        .rfind("<transcript>")
        .or_else(|| prompt.rfind("Rule that would count it"))
        .or_else(|| prompt.rfind("<conversation>"))
        .map_or(prompt, |start| &prompt[start..])
}

#[tokio::test]
async fn no_seeded_secret_reaches_a_prompt_and_each_gets_a_placeholder_of_its_kind() {
    let seeded = corpus();
    let model = recorder("The customer could not sign in; the supporter checked it.");
    let summarizer = LlmSummarizer::new(model.clone(), LlmOptions::default());
    let judge = LlmJudge::new(model.clone(), LlmOptions::default());
    let builtin = BuiltinEngine::default();
    let as_of = "2026-06-02T09:00:00Z".parse().expect("a time");
    let mut failures = Vec::new();
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (n, row) in seeded.iter().enumerate() {
        assert!(
            row.text.contains(&row.secret),
            "row {n}: the secret is in its line"
        );
        *counts
            .entry((row.class.clone(), row.language.clone()))
            .or_default() += 1;
        let kind = kind_of(&row.class);
        let language = Language::from_code(&row.language).expect("a known language");
        let session = session_of(n, row);

        let summary = summarizer.summarize(&session, language, &builtin).await;
        let summary_prompts = model.take_prompts();
        let placeholder = format!("[{}_", kind.as_str().to_uppercase());
        if summary.fallback.is_some()
            || summary.redactions.get(kind.as_str()).copied().unwrap_or(0) == 0
            || !summary_prompts
                .iter()
                .all(|prompt| prompt.contains(&placeholder))
        {
            failures.push(format!(
                "row {n} ({}, {}): no {placeholder}…] in the summary prompt: {:?} {:?}",
                row.class,
                row.language,
                summary.redactions,
                summary_prompts
                    .iter()
                    .map(|prompt| data_of(prompt))
                    .collect::<Vec<_>>()
            ));
        }
        let mut prompts = summary_prompts;
        if kind != RedactedKind::Person {
            let verdict = judge.judge(&session_lines(&session)).await;
            let check = judge
                .check(
                    &conversation_of(n, row),
                    rules::MESSAGING_AI_JUDGED_RESOLVED,
                    as_of,
                )
                .await;
            for (path, report) in [("judge", &verdict.redactions), ("check", &check.redactions)] {
                if report.count(kind) == 0 {
                    failures.push(format!(
                        "row {n} ({}, {}): the {path} prompt has no {placeholder}…]: {report:?}",
                        row.class, row.language
                    ));
                }
            }
            prompts.extend(model.take_prompts());
        }
        assert!(prompts.len() >= 3 || kind == RedactedKind::Person);
        for prompt in &prompts {
            if prompt.contains(&row.secret) {
                failures.push(format!(
                    "row {n} ({}, {}): {:?} reached the prompt: {}",
                    row.class,
                    row.language,
                    row.secret,
                    data_of(prompt)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The corpus covers every class in every language, the audit's examples among them.
    assert!(seeded.len() >= 150, "{} rows", seeded.len());
    for class in [
        "secret",
        "phone",
        "card_number",
        "iban",
        "aws_key",
        "api_key",
        "jwt",
        "url_credentials",
        "private_key",
        "email",
        "ip_address",
        "person",
    ] {
        for language in ["en", "pt-BR", "es", "de", "fr"] {
            assert!(
                counts.contains_key(&(class.to_string(), language.to_string())),
                "no {class} row in {language}"
            );
        }
    }
    for audited in [
        "(030) 1234567",
        "555.123.4567",
        "555 1234",
        "4111.1111.1111.1111",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "Winter2024#",
        "Qwerty123$",
        "Sommer2024!",
        "P@ssw0rd99",
        "correcthorsebattery",
        "Xy7#kLm2",
    ] {
        assert!(
            seeded.iter().any(|row| row.secret == audited),
            "{audited} is in the corpus"
        );
    }
    assert!(seeded.iter().any(|row| row.text.contains("AccountKey=")));
    assert!(seeded
        .iter()
        .any(|row| row.secret.starts_with("de89-") || row.secret.starts_with("de89370")));
}

#[tokio::test]
async fn speakers_names_are_placeholders_in_the_prompt_and_names_again_in_the_summary() {
    let session = Session::parse_json(
        &serde_json::json!({
            "id": "names-1",
            "turns": [
                {"speaker": "customer", "speaker_name": "Priya Nair", "text": "Hi, the VPN drops every ten minutes since this morning."},
                {"speaker": "agent", "speaker_name": "Tom Becker", "text": "Hi Priya, I renewed your VPN profile. Please reconnect."},
                {"speaker": "customer", "speaker_name": "Priya Nair", "text": "It stays connected now, thanks Tom!"}
            ]
        })
        .to_string(),
    )
    .expect("a valid session");
    let model =
        recorder("[PERSON_1]'s VPN dropped; [PERSON_2] renewed the profile for [PERSON_1].");
    let summarizer = LlmSummarizer::new(model.clone(), LlmOptions::default());

    let summary = summarizer
        .summarize(&session, Language::English, &BuiltinEngine::default())
        .await;

    let prompts = model.take_prompts();
    assert_eq!(prompts.len(), 1);
    for name in ["Priya", "Nair", "Tom", "Becker"] {
        assert!(
            !prompts[0].contains(name),
            "{name} was sent: {}",
            prompts[0]
        );
    }
    assert!(
        prompts[0].contains(
            "[PERSON_1]: Hi, the VPN drops every ten minutes since this morning.\n\
             [PERSON_2]: Hi [PERSON_1], I renewed your VPN profile. Please reconnect.\n\
             [PERSON_1]: It stays connected now, thanks [PERSON_2]!"
        ),
        "{}",
        prompts[0]
    );
    assert_eq!(summary.redactions.get("person"), Some(&2));
    assert_eq!(
        summary.summary,
        "Priya Nair's VPN dropped; Tom Becker renewed the profile for Priya Nair."
    );
}

/// The words of `original` that `redacted` replaced, by the kind of the placeholder that took
/// their place: the two texts are walked word by word, and the words between the last kept word
/// before a placeholder and the first kept word after it are the placeholder's.
fn replaced_words(original: &str, redacted: &str) -> Vec<(String, Vec<String>)> {
    static PLACEHOLDER: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"\[([A-Z_]+)_[0-9]+\]").expect("pattern"));
    let before: Vec<&str> = original.split_whitespace().collect();
    let after: Vec<&str> = redacted.split_whitespace().collect();
    let mut found = Vec::new();
    let (mut i, mut j) = (0, 0);
    while j < after.len() {
        let Some(captures) = PLACEHOLDER.captures(after[j]) else {
            i += 1;
            j += 1;
            continue;
        };
        let kind = captures[1].to_lowercase();
        let next_kept = (j + 1..after.len()).find(|&k| !PLACEHOLDER.is_match(after[k]));
        let end = match next_kept {
            Some(k) => (i..before.len())
                .find(|&m| before[m] == after[k] && m > i)
                .unwrap_or(before.len()),
            None => before.len(),
        };
        let end = end.max(i + 1).min(before.len());
        found.push((
            kind,
            before[i..end].iter().map(|word| word.to_string()).collect(),
        ));
        i = end;
        j = next_kept.unwrap_or(after.len());
    }
    found
}

/// One development split through the redactor, speaker names added as the summary path adds
/// them: dialogues, words, words redacted by class with each redacted span, and the time spent
/// redacting.
struct Scan {
    dialogues: usize,
    words: usize,
    by_class: BTreeMap<String, usize>,
    spans: Vec<String>,
    redacting: std::time::Duration,
}

fn scan(text: &str) -> Scan {
    let mut scan = Scan {
        dialogues: 0,
        words: 0,
        by_class: BTreeMap::new(),
        spans: Vec::new(),
        redacting: std::time::Duration::ZERO,
    };
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let session = Session::parse_json(line).expect("an evaluation session");
        scan.dialogues += 1;
        let started = std::time::Instant::now();
        let mut redactor = Redactor::new();
        let mut names: Vec<&str> = session
            .turns
            .iter()
            .filter_map(|turn| turn.speaker_name.as_deref())
            .collect();
        names.sort_by_key(|name| std::cmp::Reverse(name.split_whitespace().count()));
        for name in names {
            redactor.add_person(name);
        }
        let redacted: Vec<String> = session
            .turns
            .iter()
            .map(|turn| redactor.redact(&turn.text))
            .collect();
        scan.redacting += started.elapsed();
        for (turn, redacted) in session.turns.iter().zip(&redacted) {
            scan.words += turn.text.split_whitespace().count();
            for (kind, replaced) in replaced_words(&turn.text, redacted) {
                *scan.by_class.entry(kind.clone()).or_default() += replaced.len();
                scan.spans
                    .push(format!("{}: {kind}: {}", session.id, replaced.join(" ")));
            }
        }
    }
    scan
}

/// The false-positive figure (BENCHMARKS.md, issue 17): the development splits of
/// `../shared/data` through the redactor. DialogSum is everyday talk with no secrets; DSTC11
/// holds banking requests that give real PINs; STC-3 is customer-service chat. Phone numbers,
/// addresses and people's names are what redaction is for, and PINs where a set has them; any
/// other class is a word wrongly taken.
#[test]
fn words_of_everyday_dialogues_are_rarely_redacted() {
    // The patterns compile on first use; the times below count the redaction only.
    let compiling = std::time::Instant::now();
    Redactor::new().redact("");
    println!("the patterns compiled in {:?}", compiling.elapsed());
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    for (file, dialogues, rightly) in [
        (
            "dialogsum.dev.jsonl",
            196,
            &["phone", "email", "person"][..],
        ),
        (
            "dstc11_intents.dev.jsonl",
            498,
            &["phone", "email", "person", "secret"][..],
        ),
        ("stc3.dev.jsonl", 88, &["phone", "email", "person"][..]),
    ] {
        let path = data.join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));

        let scan = scan(&text);

        let wrongly: usize = scan
            .by_class
            .iter()
            .filter(|(kind, _)| !rightly.contains(&kind.as_str()))
            .map(|(_, count)| count)
            .sum();
        let share = wrongly as f64 / scan.words as f64;
        println!(
            "{file}: {} dialogues, {} words, redacted in {:?}",
            scan.dialogues, scan.words, scan.redacting
        );
        println!("  words redacted by class: {:?}", scan.by_class);
        println!(
            "  words wrongly redacted: {wrongly} ({:.3} %)",
            share * 100.0
        );
        for span in &scan.spans {
            println!("    {span}");
        }
        assert_eq!(scan.dialogues, dialogues, "{file}");
        assert!(share < 0.005, "{file}: {wrongly} of {} words", scan.words);
    }
}
