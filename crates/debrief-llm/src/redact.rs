//! Redaction of personal data and secrets before any text leaves the process for a model.
//!
//! Each finding is replaced by a typed, numbered placeholder (`[EMAIL_1]`, `[CARD_NUMBER_2]`);
//! the same value gets the same placeholder throughout one call, so the model can still tell
//! that two mentions are one address. A [`Redactor`] holds one call's findings: its
//! [`RedactionReport`] says what was removed (kinds and counts, never the values), and
//! [`Redactor::restore`] can fill placeholders back into the model's answer for the kinds a
//! company allows (personal contact data); secrets and card numbers are never filled back.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde::Serialize;

/// What a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactedKind {
    PrivateKey,
    Jwt,
    UrlCredentials,
    Secret,
    AwsKey,
    ApiKey,
    Email,
    Iban,
    CardNumber,
    IpAddress,
    Phone,
}

impl RedactedKind {
    /// The kind's name in reports; upper-cased, the stem of its placeholders (`EMAIL` in
    /// `[EMAIL_1]`).
    pub fn as_str(self) -> &'static str {
        match self {
            RedactedKind::PrivateKey => "private_key",
            RedactedKind::Jwt => "jwt",
            RedactedKind::UrlCredentials => "url_credentials",
            RedactedKind::Secret => "secret",
            RedactedKind::AwsKey => "aws_key",
            RedactedKind::ApiKey => "api_key",
            RedactedKind::Email => "email",
            RedactedKind::Iban => "iban",
            RedactedKind::CardNumber => "card_number",
            RedactedKind::IpAddress => "ip_address",
            RedactedKind::Phone => "phone",
        }
    }

    /// Whether a company may have this kind filled back into a stored summary: contact data
    /// yes; secrets, keys and card numbers never.
    pub fn restorable(self) -> bool {
        matches!(
            self,
            RedactedKind::Email
                | RedactedKind::Phone
                | RedactedKind::IpAddress
                | RedactedKind::Iban
        )
    }
}

/// What one call removed: how many distinct values of each kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RedactionReport(pub BTreeMap<RedactedKind, u32>);

impl RedactionReport {
    /// Whether nothing was removed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many values of `kind` were removed.
    pub fn count(&self, kind: RedactedKind) -> u32 {
        self.0.get(&kind).copied().unwrap_or(0)
    }
}

/// One kind's pattern and the check a match must pass.
struct Rule {
    kind: RedactedKind,
    pattern: Regex,
    /// The capture group holding the value to replace (0 for the whole match).
    group: usize,
    accept: fn(&str) -> bool,
}

fn always(_: &str) -> bool {
    true
}

/// The rules in the order they run: longer, more specific shapes first, so that a JWT is not
/// taken for three words and a card number not for a phone number.
static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |kind, pattern: &str, group, accept| Rule {
        kind,
        // The patterns are constants of this module: compiling them cannot fail.
        pattern: Regex::new(pattern).expect("redaction patterns compile"),
        group,
        accept,
    };
    vec![
        rule(
            RedactedKind::PrivateKey,
            r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\z)",
            0,
            always,
        ),
        rule(
            RedactedKind::Jwt,
            r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}",
            0,
            always,
        ),
        rule(
            RedactedKind::UrlCredentials,
            r"(?i)\b[a-z][a-z0-9+.-]*://([^\s/:@]+:[^\s/@]+)@",
            1,
            always,
        ),
        rule(
            RedactedKind::AwsKey,
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",
            0,
            always,
        ),
        rule(
            RedactedKind::ApiKey,
            r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}|sk_(?:live|test)_[0-9A-Za-z]{16,}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20})",
            0,
            always,
        ),
        // A secret typed after its name: "password: hunter2", "senha = x", "API key is sk9…".
        // After ":" or "=" any value is taken; after a verb only one that looks like a secret.
        rule(
            RedactedKind::Secret,
            &format!(r#"(?i)\b(?:{SECRET_NAMES})\s*[:=]\s*("[^"\n]+"|'[^'\n]+'|[^\s,;]+)"#),
            1,
            not_a_placeholder,
        ),
        rule(
            RedactedKind::Secret,
            &format!(
                r#"(?i)\b(?:{SECRET_NAMES})\s+(?:is|was|[ée]|es|ist|est)\s+("[^"\n]+"|'[^'\n]+'|[^\s,;]+)"#
            ),
            1,
            looks_like_a_secret,
        ),
        rule(
            RedactedKind::Email,
            r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
            0,
            always,
        ),
        rule(
            RedactedKind::Iban,
            r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b",
            0,
            iban_checks,
        ),
        rule(
            RedactedKind::CardNumber,
            r"\b(?:[0-9][ -]?){12,18}[0-9]\b",
            0,
            luhn_checks,
        ),
        rule(
            RedactedKind::IpAddress,
            r"(?i)(?:\b|::)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b",
            0,
            is_ipv6,
        ),
        rule(
            RedactedKind::IpAddress,
            r"\b(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}\b",
            0,
            always,
        ),
        rule(
            RedactedKind::Phone,
            r"(?:\+[0-9]{1,3}[ .-]?)?(?:\([0-9]{1,4}\)[ .-]?)?[0-9]{2,5}(?:[ .-][0-9]{2,5}){1,4}\b|\+[0-9]{8,15}\b",
            0,
            looks_like_a_phone,
        ),
    ]
});

/// Names under which people type a secret.
const SECRET_NAMES: &str = r"password|passwd|pwd|passphrase|passcode|pin|senha|contrase[ñn]a|passwort|kennwort|mot de passe|mdp|api[ _-]?key|secret(?:[ _-]?key)?|access[ _-]?key|client[ _-]?secret|token|aws_secret_access_key";

/// A value named by a verb ("my password is …"): only a word with a digit or a symbol in it,
/// so "my password is wrong" keeps "wrong".
fn looks_like_a_secret(value: &str) -> bool {
    value.chars().any(|c| !c.is_alphabetic()) && not_a_placeholder(value)
}

/// Whether `value` is not a placeholder an earlier rule wrote.
fn not_a_placeholder(value: &str) -> bool {
    static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\[[A-Z_]+_[0-9]+\]$").expect("placeholder pattern compiles")
    });
    !PLACEHOLDER.is_match(value)
}

/// The Luhn check of a card number of 13 to 19 digits.
fn luhn_checks(candidate: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The ISO 13616 mod-97 check of an IBAN.
fn iban_checks(candidate: &str) -> bool {
    let compact: String = candidate.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut remainder = 0u32;
    for c in tail.chars().chain(head.chars()) {
        let value = match c.to_digit(36) {
            Some(value) => value,
            None => return false,
        };
        remainder = if value < 10 {
            (remainder * 10 + value) % 97
        } else {
            (remainder * 100 + value) % 97
        };
    }
    remainder == 1
}

fn is_ipv6(candidate: &str) -> bool {
    candidate.parse::<Ipv6Addr>().is_ok()
}

/// A phone number: 8 to 15 digits, not a date, a time or a version number.
fn looks_like_a_phone(candidate: &str) -> bool {
    let digits = candidate.chars().filter(char::is_ascii_digit).count();
    if !(8..=15).contains(&digits) {
        return false;
    }
    static DATE_OR_VERSION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,4}(?:\.[0-9]{1,5}){2,3})$")
            .expect("date pattern compiles")
    });
    !DATE_OR_VERSION.is_match(candidate)
}

/// One call's redaction: the placeholders given so far and the values behind them.
#[derive(Debug, Default)]
pub struct Redactor {
    /// Placeholder for each value seen.
    placeholders: BTreeMap<(RedactedKind, String), String>,
    /// Value behind each placeholder.
    values: Vec<(String, RedactedKind, String)>,
    report: RedactionReport,
}

impl Redactor {
    /// A redactor for one call.
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// `text` with every finding replaced by its placeholder.
    pub fn redact(&mut self, text: &str) -> String {
        let mut text = text.to_string();
        for rule in RULES.iter() {
            if !rule.pattern.is_match(&text) {
                continue;
            }
            text = rule
                .pattern
                .replace_all(&text, |captures: &Captures<'_>| {
                    let whole = captures.get(0).map_or("", |found| found.as_str());
                    let Some(value) = captures.get(rule.group) else {
                        return whole.to_string();
                    };
                    if !(rule.accept)(value.as_str()) {
                        return whole.to_string();
                    }
                    let placeholder = self.placeholder(rule.kind, value.as_str());
                    let start = value.start() - captures.get(0).map_or(0, |found| found.start());
                    let end = start + value.len();
                    format!("{}{placeholder}{}", &whole[..start], &whole[end..])
                })
                .into_owned();
        }
        text
    }

    fn placeholder(&mut self, kind: RedactedKind, value: &str) -> String {
        let key = (kind, value.to_string());
        if let Some(placeholder) = self.placeholders.get(&key) {
            return placeholder.clone();
        }
        let count = self.report.0.entry(kind).or_insert(0);
        *count += 1;
        let placeholder = format!("[{}_{}]", kind.as_str().to_uppercase(), count);
        self.placeholders.insert(key, placeholder.clone());
        self.values
            .push((placeholder.clone(), kind, value.to_string()));
        placeholder
    }

    /// What was removed so far.
    pub fn report(&self) -> &RedactionReport {
        &self.report
    }

    /// `text` with the placeholders of restorable kinds (see [`RedactedKind::restorable`])
    /// replaced by their values; other placeholders stay.
    pub fn restore(&self, text: &str) -> String {
        let mut text = text.to_string();
        // Longest placeholders first, so that [EMAIL_1] never eats into [EMAIL_10].
        let mut values: Vec<&(String, RedactedKind, String)> = self.values.iter().collect();
        values.sort_by_key(|(placeholder, _, _)| std::cmp::Reverse(placeholder.len()));
        for (placeholder, kind, value) in values {
            if kind.restorable() {
                text = text.replace(placeholder.as_str(), value);
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(text: &str) -> (String, RedactionReport) {
        let mut redactor = Redactor::new();
        let out = redactor.redact(text);
        (out, redactor.report().clone())
    }

    #[test]
    fn each_kind_is_found_and_replaced() {
        let cases = [
            ("mail me at ana.silva@example.com.br please", RedactedKind::Email, "ana.silva@example.com.br"),
            ("call +55 11 98765-4321 today", RedactedKind::Phone, "98765-4321"),
            ("call (415) 555-0132 today", RedactedKind::Phone, "555-0132"),
            ("card 4111 1111 1111 1111 exp 12/29", RedactedKind::CardNumber, "4111 1111"),
            ("IBAN DE89 3704 0044 0532 0130 00 for the refund", RedactedKind::Iban, "3704 0044"),
            ("server at 192.168.10.24 is down", RedactedKind::IpAddress, "192.168.10.24"),
            ("ping 2001:db8::8a2e:370:7334 fails", RedactedKind::IpAddress, "2001:db8::8a2e"),
            ("open https://admin:Sup3rS3cret@intranet.local/x", RedactedKind::UrlCredentials, "Sup3rS3cret"),
            ("my password: hunter2!", RedactedKind::Secret, "hunter2"),
            ("a senha é Abc#2024", RedactedKind::Secret, "Abc#2024"),
            ("key AKIAIOSFODNN7EXAMPLE leaked", RedactedKind::AwsKey, "AKIAIOSFODNN7EXAMPLE"),
            ("use sk-proj-abcdefghijklmnop1234 now", RedactedKind::ApiKey, "abcdefghijklmnop1234"),
            ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", RedactedKind::Jwt, "eyJhbGciOiJIUzI1NiJ9"),
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", RedactedKind::PrivateKey, "MIIEow"),
        ];
        for (text, kind, secret) in cases {
            let (out, report) = redacted(text);
            assert!(!out.contains(secret), "{text} -> {out}");
            assert_eq!(report.count(kind), 1, "{text} -> {out} {report:?}");
            assert!(
                out.contains(&format!("[{}_1]", kind.as_str().to_uppercase())),
                "{out}"
            );
        }
    }

    #[test]
    fn ordinary_numbers_and_words_are_kept() {
        for text in [
            "Windows 10 build 10.0.19045 on 2026-11-22 at 10:30:00",
            "ticket INC0012345 and order 123456",
            "my password is wrong",
            "card ending 1234",
            "4111 1111 1111 1112 is not a valid card",
        ] {
            let (out, report) = redacted(text);
            assert!(report.is_empty(), "{text} -> {out} {report:?}");
            assert_eq!(out, text);
        }
    }

    #[test]
    fn one_value_keeps_one_placeholder_and_contact_data_can_be_restored() {
        let mut redactor = Redactor::new();
        let first = redactor.redact("write to bo@example.org, password: x9!k");
        let second = redactor.redact("again bo@example.org or cy@example.org");
        assert_eq!(first, "write to [EMAIL_1], password: [SECRET_1]");
        assert_eq!(second, "again [EMAIL_1] or [EMAIL_2]");
        assert_eq!(redactor.report().count(RedactedKind::Email), 2);
        assert_eq!(
            redactor.restore("Bo ([EMAIL_1]) typed [SECRET_1]"),
            "Bo (bo@example.org) typed [SECRET_1]"
        );
    }
}
