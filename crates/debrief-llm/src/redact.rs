//! Redaction of personal data and secrets before any text leaves the process for a model.
//!
//! Each finding is replaced by a typed, numbered placeholder (`[EMAIL_1]`, `[CARD_NUMBER_2]`);
//! the same value gets the same placeholder throughout one call, so the model can still tell
//! that two mentions are one address. A [`Redactor`] holds one call's findings: its
//! [`RedactionReport`] says what was removed (kinds and counts, never the values), and
//! [`Redactor::restore`] can fill placeholders back into the model's answer for the kinds a
//! company allows (personal contact data, people's names); secrets and card numbers are never
//! filled back.
//!
//! What is found, in five languages (English, Brazilian Portuguese, Spanish, German, French):
//! private keys, JWTs, credentials in URLs, cloud and service keys (AWS, Azure, bearer tokens,
//! `api_key=`), passwords, PINs and one-time codes named in a sentence ("the password for the
//! VPN is …", "Mein Passwort lautet …", "I set it to …"), e-mail addresses, IBANs (mod-97
//! checked), card numbers (Luhn checked), IP addresses, phone numbers, and the names of the
//! people speaking ([`Redactor::add_person`]). Times, dates, version numbers, short reference
//! numbers, money amounts and ordinary words are kept.

mod words;

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
    Person,
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
            RedactedKind::Person => "person",
        }
    }

    /// Whether a company may have this kind filled back into a stored summary: contact data
    /// and people's names yes; secrets, keys and card numbers never.
    pub fn restorable(self) -> bool {
        matches!(
            self,
            RedactedKind::Email
                | RedactedKind::Phone
                | RedactedKind::IpAddress
                | RedactedKind::Iban
                | RedactedKind::Person
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

/// A value a rule's pattern found, with the text around it.
struct Candidate<'t> {
    value: &'t str,
    /// The part of the match before the value: the cue and verb of "password is …".
    lead: &'t str,
    /// The whole text before the value.
    before: &'t str,
    /// The whole text after the value.
    after: &'t str,
    /// Whether the call has talked of passwords or credentials so far.
    password_talk: bool,
}

/// One kind's pattern and the check a match must pass.
struct Rule {
    kind: RedactedKind,
    pattern: Regex,
    /// The capture group holding the value to replace (0 for the whole match).
    group: usize,
    accept: fn(&Candidate<'_>) -> bool,
}

fn always(_: &Candidate<'_>) -> bool {
    true
}

/// A quoted value, or a run of characters up to a space, comma or semicolon.
const VALUE: &str = r#"("[^"\n]{1,80}"|'[^'\n]{1,80}'|“[^”\n]{1,80}”|«[^»\n]{1,80}»|[^\s,;]+)"#;

/// A word between a cue and its verb: "the password *for the VPN* is".
const BETWEEN: &str = r"(?:[ \t]+[\p{L}\p{N}'’.-]+)";

/// The rules in the order they run: longer, more specific shapes first, so that a JWT is not
/// taken for three words, a key after `password=` not for a phone number, and a card number
/// not for a phone number.
static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |kind, pattern: &str, group, accept| Rule {
        kind,
        // The patterns are constants of this module: compiling them cannot fail.
        pattern: Regex::new(pattern).expect("redaction patterns compile"),
        group,
        accept,
    };
    let password = words::PASSWORD_NAMES;
    let pin = words::PIN_NAMES;
    let key = words::KEY_NAMES;
    let verb = words::VERBS;
    let skip = words::SKIPPED;
    let articles = words::ARTICLES;
    let newly = words::NEW;
    vec![
        rule(
            RedactedKind::PrivateKey,
            r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\z)",
            0,
            always,
        ),
        rule(
            RedactedKind::Jwt,
            r"(?-u:\b)eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}",
            0,
            always,
        ),
        rule(
            RedactedKind::UrlCredentials,
            r"(?i)(?-u:\b)[a-z][a-z0-9+.-]*://([^\s/:@]+:[^\s/@]+)@",
            1,
            always,
        ),
        rule(
            RedactedKind::AwsKey,
            r"(?-u:\b)(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}(?-u:\b)",
            0,
            always,
        ),
        rule(
            RedactedKind::ApiKey,
            r"(?-u:\b)(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}|[sr]k_(?:live|test)_[0-9A-Za-z]{16,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20}|npm_[A-Za-z0-9]{36}|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,})",
            0,
            always,
        ),
        // Azure storage and service-bus connection strings and SAS URLs.
        rule(
            RedactedKind::ApiKey,
            r#"(?i)(?-u:\b)(?:AccountKey|SharedAccessKey|SharedAccessSignature|sig)=([^\s;"'&<>]{8,})"#,
            1,
            always,
        ),
        rule(
            RedactedKind::ApiKey,
            r"(?i)(?-u:\b)bearer[ \t]+([A-Za-z0-9._~+/-]{16,}=*)",
            1,
            always,
        ),
        rule(
            RedactedKind::Secret,
            r"(?i)(?-u:\b)(?:authorization[ \t]*[:=][ \t]*)?basic[ \t]+([A-Za-z0-9+/]{8,}={0,2})(?:[^A-Za-z0-9+/=]|\z)",
            1,
            looks_like_base64_credentials,
        ),
        // A key or token typed after its name: "api_key=…", "token: …", "the API key is …".
        rule(
            RedactedKind::ApiKey,
            &format!(
                r"(?i)(?-u:\b)(?:{key})(?:[ \t]+(?:is|was|é|es|ist|lautet|est))?(?:[ \t]*[:=][ \t]*|[ \t]+){VALUE}"
            ),
            1,
            looks_like_a_key,
        ),
        // A bare AWS secret access key: 40 characters of base64 with both cases.
        rule(
            RedactedKind::AwsKey,
            r"(?:\A|[^A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?:\z|[^A-Za-z0-9/+=])",
            1,
            looks_like_an_aws_secret,
        ),
        // "The password for the VPN is …", "Mein Passwort lautet …", "senha: …".
        rule(
            RedactedKind::Secret,
            &format!(
                r"(?i)(?-u:\b)(?:{password}){BETWEEN}{{0,4}}?{verb}(?:(?:{skip})[ \t]+)?{VALUE}"
            ),
            1,
            value_after_password_name,
        ),
        // "pw: …", "pass = …", "secret: …".
        rule(
            RedactedKind::Secret,
            &format!(
                r"(?i)(?-u:\b)(?:{})(?-u:\b)[ \t]*[:=][ \t]*{VALUE}",
                words::SHORT_NAMES
            ),
            1,
            named_value,
        ),
        // "I changed the password to …", "mudei a senha para …", "das Passwort auf … geändert".
        rule(
            RedactedKind::Secret,
            &format!(
                r"(?i)(?-u:\b)(?:{})[ \t]+(?:(?:{articles})[ \t]+)?(?:(?:{newly})[ \t]+)?(?:{password}|pin){BETWEEN}{{0,3}}?[ \t]+(?:to|as|para|pra|como|a|en|por|auf|zu|à|pour|par)[ \t]+{VALUE}",
                words::CHANGE_VERBS
            ),
            1,
            named_value,
        ),
        // "The PIN for my badge is 4821", "código de verificação: 482913".
        rule(
            RedactedKind::Secret,
            &format!(r"(?i)(?-u:\b)(?:{pin}){BETWEEN}{{0,3}}?{verb}(?:(?:{skip})[ \t]+)?{VALUE}"),
            1,
            looks_like_a_pin,
        ),
        // "PIN 4821", "CVV 123".
        rule(
            RedactedKind::Secret,
            &format!(r"(?i)(?-u:\b)(?:{pin})(?:[ \t]*[#:][ \t]*|[ \t]+){VALUE}"),
            1,
            looks_like_a_pin,
        ),
        // Weaker cues take only a value that looks like a password: "I set it to P@ssw0rd99",
        // "pw Xy7#kLm2", "la clave es Casa2024".
        rule(
            RedactedKind::Secret,
            &format!(
                r"(?i)(?-u:\b)(?:{})(?:[ \t]*[:=][ \t]*|[ \t]+){VALUE}",
                words::WEAK_CUES
            ),
            1,
            looks_like_a_given_password,
        ),
        // "Winter2024# is my password".
        rule(
            RedactedKind::Secret,
            &format!(
                r"(?i)([^\s,;:]+)[ \t]+(?:is|was|é|era|es|ist|war|est|était)[ \t]+(?:(?:{articles})[ \t]+)?(?:(?:{newly})[ \t]+)?(?:{password})(?-u:\b)"
            ),
            1,
            looks_like_a_password,
        ),
        rule(
            RedactedKind::Email,
            r"(?-u:\b)[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?-u:\b)",
            0,
            always,
        ),
        // Country code, check digits, then groups of four (the later ones with a digit, so
        // that a word after the number is not taken into it) and a last short group.
        rule(
            RedactedKind::Iban,
            r"(?i)(?-u:\b)[a-z]{2}[0-9]{2}[ -]?[a-z0-9]{4}(?:[ -]?(?:[0-9][a-z0-9]{3}|[a-z][0-9][a-z0-9]{2}|[a-z]{2}[0-9][a-z0-9]|[a-z]{3}[0-9])){1,6}(?:[ -]?[a-z0-9]{0,3}[0-9])?(?-u:\b)",
            0,
            iban_checks,
        ),
        rule(
            RedactedKind::CardNumber,
            r"(?-u:\b)(?:[0-9][ .-]?){12,18}[0-9](?-u:\b)",
            0,
            card_checks,
        ),
        rule(
            RedactedKind::IpAddress,
            r"(?i)(?:(?-u:\b)|::)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?-u:\b)",
            0,
            is_ipv6,
        ),
        rule(
            RedactedKind::IpAddress,
            r"(?-u:\b)(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}(?-u:\b)",
            0,
            is_whole_ipv4,
        ),
        // International (+49 30 1234567, 0049…), an area code in parentheses ((030) 1234567),
        // groups (555 123 4567, 555.123.4567, 06 12 34 56 78), or a national number written
        // in one piece (01711234567).
        rule(
            RedactedKind::Phone,
            r"(?:\+|(?-u:\b)00)[1-9][0-9]{0,2}(?:[ .-]?\(0?[0-9]{1,4}\))?(?:[ .\-/]?[0-9]{1,8}){1,6}(?-u:\b)|\([0-9]{2,5}\)[ .-]?[0-9]{2,8}(?:[ .\-/][0-9]{2,8}){0,4}(?-u:\b)|(?-u:\b)[0-9]{2,5}(?:[ .\-/][0-9]{2,8}){1,5}(?-u:\b)|(?-u:\b)[0-9]{7,12}(?-u:\b)",
            0,
            looks_like_a_phone,
        ),
    ]
});

/// Whether `value` is, or starts with, a placeholder an earlier rule wrote.
fn is_placeholder(value: &str) -> bool {
    static PLACEHOLDER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\[[A-Z_]+_[0-9]+\]").expect("placeholder pattern compiles"));
    PLACEHOLDER.is_match(value)
}

/// A value without the quotes around it, if any.
fn unquoted(value: &str) -> (&str, bool) {
    for (open, close) in [('"', '"'), ('\'', '\''), ('“', '”'), ('«', '»')] {
        if let Some(inner) = value
            .strip_prefix(open)
            .and_then(|rest| rest.strip_suffix(close))
        {
            return (inner.trim(), true);
        }
    }
    (value, false)
}

/// A value without the sentence marks after it.
fn without_end_marks(value: &str) -> &str {
    value.trim_end_matches(['.', ',', '!', '?', ')', ':', ';', '…'])
}

/// Whether `word` (lower case, letters only) is an ordinary word after a password cue: a
/// function word or adjective ("wrong", "errada", "abgelaufen") or a participle or gerund
/// ("expired", "bloqueada", "gesperrt", "expiré", "working").
fn is_ordinary_word(word: &str) -> bool {
    if words::ORDINARY.contains(word) {
        return true;
    }
    let length = word.chars().count();
    length >= 5
        && (INFLECTED_ENDINGS
            .iter()
            .any(|ending| word.ends_with(ending))
            || (length >= 6
                && word.starts_with("ge")
                && (word.ends_with('t') || word.ends_with("en"))))
}

/// Endings of participles and gerunds: English, Portuguese and Spanish, French (German
/// participles are `ge…t` and `ge…en`).
const INFLECTED_ENDINGS: [&str; 19] = [
    "ing", "ings", "ed", "ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas", "ando",
    "endo", "indo", "iendo", "é", "ée", "és", "ées",
];

/// A value after a password's name and its verb: a [`named_value`], unless the name is part
/// of another one ("the password policy is strict", "a política de senha é rígida").
fn value_after_password_name(found: &Candidate<'_>) -> bool {
    let before_cue = &found.before[..found.before.len() - found.lead.len()];
    !words::COMPOUND.is_match(found.lead)
        && !words::COMPOUND_BEFORE.is_match(tail(before_cue, 40))
        && named_value(found)
}

/// A value named by a password cue: anything but an ordinary word ("my password is wrong"), a
/// short number ("password is 8 characters") or a clause that only shares a sentence with the
/// cue ("my password and the printer are broken").
fn named_value(found: &Candidate<'_>) -> bool {
    if is_placeholder(found.value) {
        return false;
    }
    let (value, quoted) = unquoted(found.value);
    if quoted {
        return !value.is_empty();
    }
    if words::CLAUSE_BREAK.is_match(found.lead) {
        return false;
    }
    let value = without_end_marks(value);
    if value.chars().all(|c| c.is_ascii_digit()) {
        return value.len() >= 3;
    }
    if value
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '’'))
    {
        let lower = value.to_lowercase();
        return lower.chars().filter(|c| c.is_alphabetic()).count() >= 4
            && !lower
                .split(['-', '\'', '’'])
                .any(|part| part.is_empty() || is_ordinary_word(part));
    }
    true
}

/// Whether a value looks like a password without a cue that says so: six or more characters
/// mixing letters with digits or symbols, and not a version, a measure, a path or an address.
fn looks_like_a_password(found: &Candidate<'_>) -> bool {
    if is_placeholder(found.value) {
        return false;
    }
    let value = unquoted(found.value)
        .0
        .trim_end_matches(['.', ',', '!', '?', ')', ':', ';']);
    password_shaped(value)
}

/// A value after a weak cue ("I set it to …"): password-shaped, and with a symbol unless the
/// call has talked of passwords ("I set it to WPA2-Personal" alone is a Wi-Fi setting).
fn looks_like_a_given_password(found: &Candidate<'_>) -> bool {
    looks_like_a_password(found)
        && (found.password_talk
            || found
                .value
                .trim_end_matches(['.', ',', '!', '?', ')', ':', ';'])
                .contains(|c: char| "!@#$%^&*+=?~<>{}[]|".contains(c)))
}

fn password_shaped(value: &str) -> bool {
    static NOT_A_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)[0-9]\.[0-9]|^[0-9]+(?:[.,][0-9]+)?[a-z%]{1,5}$|://|^www\.|\\|^[a-z]:|^[0-9]+x[0-9]+$")
            .expect("non-password pattern compiles")
    });
    let length = value.chars().count();
    let letters = value.chars().filter(|c| c.is_alphabetic()).count();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let symbols = value
        .chars()
        .filter(|c| !c.is_alphanumeric() && !"-'’./_".contains(*c))
        .count();
    (6..=64).contains(&length)
        && letters >= 2
        && (digits >= 1 || symbols >= 1)
        && !NOT_A_PASSWORD.is_match(value)
}

/// A PIN or one-time code: three to eight digits, or a password-shaped value.
fn looks_like_a_pin(found: &Candidate<'_>) -> bool {
    if is_placeholder(found.value) || words::CLAUSE_BREAK.is_match(found.lead) {
        return false;
    }
    let value = without_end_marks(unquoted(found.value).0);
    if value.chars().all(|c| c.is_ascii_digit()) {
        return (3..=8).contains(&value.len());
    }
    password_shaped(value)
}

/// A key or token named as such. After a colon or `=`: eight or more characters with a digit
/// or both cases ("token: expired" keeps its word); after a verb or nothing: twelve or more
/// with letters and digits.
fn looks_like_a_key(found: &Candidate<'_>) -> bool {
    if is_placeholder(found.value) {
        return false;
    }
    let value = without_end_marks(unquoted(found.value).0);
    let has = |test: fn(&char) -> bool| value.chars().any(|c| test(&c));
    let (digit, upper, lower) = (
        has(char::is_ascii_digit),
        has(char::is_ascii_uppercase),
        has(char::is_ascii_lowercase),
    );
    let length = value.chars().count();
    if found.lead.contains([':', '=']) {
        length >= 8 && (digit && (upper || lower) || upper && lower)
    } else {
        length >= 12 && digit && (upper || lower)
    }
}

/// The base64 of "user:password" after `Basic`: taken after `Authorization`, else only when
/// it has a digit or padding ("Basic Authentication" keeps its word).
fn looks_like_base64_credentials(found: &Candidate<'_>) -> bool {
    found.lead.to_lowercase().contains("authorization")
        || found.value.ends_with('=')
        || found.value.chars().any(|c| c.is_ascii_digit())
}

/// A 40-character run of base64 is an AWS secret access key when it mixes both cases with a
/// digit or slash (a git commit id is lower-case hex; a path starts with a slash).
fn looks_like_an_aws_secret(found: &Candidate<'_>) -> bool {
    let value = found.value;
    let has = |test: fn(&char) -> bool| value.chars().any(|c| test(&c));
    has(char::is_ascii_uppercase)
        && has(char::is_ascii_lowercase)
        && (has(char::is_ascii_digit) || value.contains('/') || value.contains('+'))
        && !value.starts_with('/')
        && !value.ends_with('/')
        && !value.contains("//")
}

/// The Luhn check of a card number of 13 to 19 digits, written in one piece or in groups of
/// four (4-6-5 and 4-6-4 for American Express and Diners).
fn card_checks(found: &Candidate<'_>) -> bool {
    let groups: Vec<usize> = found
        .value
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .collect();
    let grouped = match groups.split_last() {
        None => false,
        Some((_, [])) => true,
        Some((last, rest)) => {
            groups == [4, 6, 5]
                || groups == [4, 6, 4]
                || (rest.iter().all(|&n| n == 4) && (1..=4).contains(last))
        }
    };
    grouped && found.value.starts_with(['2', '3', '4', '5', '6']) && luhn_checks(found.value)
}

/// The Luhn check of a number of 13 to 19 digits.
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

/// The ISO 13616 check of an IBAN in any case, with spaces or dashes: a known country, its
/// length, and mod 97.
fn iban_checks(found: &Candidate<'_>) -> bool {
    let compact: String = found
        .value
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let Some(length) = words::IBAN_LENGTHS
        .split_whitespace()
        .find(|entry| compact.get(..2) == entry.get(..2))
        .and_then(|entry| entry[2..].parse::<usize>().ok())
    else {
        return false;
    };
    if compact.len() != length {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut remainder = 0u32;
    for c in tail.chars().chain(head.chars()) {
        let Some(value) = c.to_digit(36) else {
            return false;
        };
        remainder = if value < 10 {
            (remainder * 10 + value) % 97
        } else {
            (remainder * 100 + value) % 97
        };
    }
    remainder == 1
}

/// Four numbers that are not part of a longer dotted run (a phone number written
/// 01.23.45.67.89, a version 1.2.3.4.5).
fn is_whole_ipv4(found: &Candidate<'_>) -> bool {
    !inside_a_run(found, &['.'])
}

/// Whether a match continues a longer run of numbers joined by one of `separators` on either
/// side ("01.23.45.67.89", "16.0.17928.20114", "978-3-16-148410-0").
fn inside_a_run(found: &Candidate<'_>, separators: &[char]) -> bool {
    let joins = |separator: Option<char>, digit: Option<char>| {
        separator.is_some_and(|c| separators.contains(&c))
            && digit.is_some_and(|c| c.is_ascii_digit())
    };
    let mut before = found.before.chars().rev();
    let mut after = found.after.chars();
    joins(before.next(), before.next()) || joins(after.next(), after.next())
}

/// An IPv6 address as the standard library reads one.
fn is_ipv6(found: &Candidate<'_>) -> bool {
    found.value.parse::<Ipv6Addr>().is_ok()
}

/// A phone number: 7 to 15 digits, and not a date, a time range, a run of years, a version, a
/// money amount or a quantity, nor a reference number ("order 123 4567"). A number in one
/// piece is one only when it starts with a trunk 0 or follows a phone word; grouped by threes
/// like an amount ("612 345 678", "1.234.567"), only after a phone word.
fn looks_like_a_phone(found: &Candidate<'_>) -> bool {
    static DATE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:[0-9]{1,2}[./-][0-9]{1,2}[./-](?:[0-9]{4}|[0-9]{2})|[0-9]{4}[./-][0-9]{1,2}[./-][0-9]{1,2}|[0-2]?[0-9][.:][0-5][0-9] ?- ?[0-2]?[0-9][.:][0-5][0-9])$")
            .expect("date pattern compiles")
    });
    static THOUSANDS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[0-9]{1,3}(?:[ .][0-9]{3})+$").expect("thousands pattern compiles")
    });
    let value = found.value;
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if !(7..=15).contains(&digits) || DATE.is_match(value) || inside_a_run(found, &['.', '-', '/'])
    {
        return false;
    }
    if value.starts_with('+') {
        return true;
    }
    let before = tail(found.before, 24);
    let groups: Vec<&str> = value
        .split(|c: char| !c.is_ascii_digit())
        .filter(|group| !group.is_empty())
        .collect();
    let years = groups
        .iter()
        .all(|group| group.len() == 4 && (group.starts_with("19") || group.starts_with("20")));
    let dotted_version = value.contains('.') && groups.iter().any(|group| group.len() == 1);
    if years
        || dotted_version
        || words::VERSION_CUE.is_match(before)
        || words::MONEY_BEFORE.is_match(before)
        || words::UNIT_AFTER.is_match(found.after)
        || words::REFERENCE_CUE.is_match(before)
    {
        return false;
    }
    let cue = words::PHONE_CUE.is_match(tail(found.before, 40));
    if groups.len() == 1 {
        return value.starts_with('0') || cue;
    }
    if THOUSANDS.is_match(value) {
        return cue;
    }
    true
}

/// The last `chars` characters of `text` (fewer when it is shorter).
fn tail(text: &str, chars: usize) -> &str {
    let start = text
        .char_indices()
        .rev()
        .nth(chars.saturating_sub(1))
        .map_or(0, |(index, _)| index);
    &text[start..]
}

/// The placeholders given so far and the values behind them.
#[derive(Debug, Default)]
struct Placeholders {
    /// Placeholder for each value seen.
    by_value: BTreeMap<(RedactedKind, String), String>,
    /// Value behind each placeholder.
    values: Vec<(String, RedactedKind, String)>,
    report: RedactionReport,
}

impl Placeholders {
    fn placeholder(&mut self, kind: RedactedKind, value: &str) -> String {
        let key = (kind, value.to_string());
        if let Some(placeholder) = self.by_value.get(&key) {
            return placeholder.clone();
        }
        let count = self.report.0.entry(kind).or_insert(0);
        *count += 1;
        let placeholder = format!("[{}_{}]", kind.as_str().to_uppercase(), count);
        self.by_value.insert(key, placeholder.clone());
        self.values
            .push((placeholder.clone(), kind, value.to_string()));
        placeholder
    }
}

/// The people of one call: their names as given, and each name's words that identify them.
#[derive(Debug, Default)]
struct People {
    names: Vec<String>,
    /// Each alias (lower case) with its person and whether only a capitalised mention counts.
    aliases: Vec<(String, usize, bool)>,
    /// One group per alias, longest first.
    pattern: Option<Regex>,
}

impl People {
    /// The person an alias (any case) belongs to.
    fn find(&self, alias: &str) -> Option<usize> {
        let lower = alias.to_lowercase();
        self.aliases
            .iter()
            .find(|(known, _, _)| *known == lower)
            .map(|(_, person, _)| *person)
    }

    fn add(&mut self, name: &str) {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        let parts: Vec<&str> = name
            .split(|c: char| !c.is_alphabetic() && c != '\'' && c != '’' && c != '-')
            .filter(|part| part.chars().any(char::is_alphabetic))
            .collect();
        let is_role = |part: &&str| words::ROLE_WORDS.contains(part.to_lowercase().as_str());
        if parts.is_empty() || parts.iter().all(is_role) || self.find(&name).is_some() {
            return;
        }
        let person = self.names.len();
        let mut aliases = vec![name.to_lowercase()];
        if parts.len() > 1 {
            for part in &parts {
                let lower = part.to_lowercase();
                let is_particle = words::NAME_PARTICLES.contains(lower.as_str());
                if lower.chars().count() >= 2
                    && !is_role(part)
                    && !is_particle
                    && self.find(part).is_none()
                {
                    aliases.push(lower);
                }
            }
        }
        for alias in aliases {
            let capitalised_only = words::COMMON_WORD_NAMES.contains(alias.as_str());
            self.aliases.push((alias, person, capitalised_only));
        }
        self.names.push(name);
        self.aliases
            .sort_by_key(|(alias, _, _)| std::cmp::Reverse(alias.chars().count()));
        let groups: Vec<String> = self
            .aliases
            .iter()
            .map(|(alias, _, _)| {
                // An ASCII boundary where it serves: it keeps the fast engines on any text.
                let edge = |c: Option<char>| match c {
                    Some(c) if c.is_ascii_alphanumeric() => r"(?-u:\b)",
                    Some(c) if c.is_alphanumeric() => r"\b",
                    _ => "",
                };
                let words: Vec<String> = alias.split(' ').map(regex::escape).collect();
                format!(
                    "({}{}{})",
                    edge(alias.chars().next()),
                    words.join(r"\s+"),
                    edge(alias.chars().last())
                )
            })
            .collect();
        // Escaped names between fixed groups: the pattern always compiles.
        self.pattern =
            Some(Regex::new(&format!("(?i){}", groups.join("|"))).expect("name pattern compiles"));
    }
}

/// One call's redaction: the placeholders given so far, the values behind them, and the names
/// of the people in the conversation.
#[derive(Debug, Default)]
pub struct Redactor {
    placeholders: Placeholders,
    people: People,
    /// Whether the texts so far talked of passwords or credentials.
    password_talk: bool,
}

impl Redactor {
    /// A redactor for one call.
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Makes a person's name (a speaker's `speaker_name`) one placeholder `[PERSON_n]`
    /// wherever [`Redactor::redact`] meets it from now on: the whole name, and each of its words
    /// that is a name ("Priya" and "Nair" of "Priya Nair", in any case; a name that is also a
    /// common word, such as "Will", only when capitalised). A role rather than a name
    /// ("Customer", "Agent 7", "#Person1#") is left as it is, and so is a name already known.
    /// Add the longest names first: a later "Priya" is then the same person as "Priya Nair".
    pub fn add_person(&mut self, name: &str) {
        self.people.add(name);
    }

    /// `text` with every finding replaced by its placeholder. A person who introduces
    /// themselves ("my name is Chase Carter") is added as by [`Redactor::add_person`].
    pub fn redact(&mut self, text: &str) -> String {
        for introduction in words::INTRODUCTION.captures_iter(text) {
            self.people.add(&introduction[1]);
        }
        self.password_talk |= words::PASSWORD_TALK.is_match(text);
        let password_talk = self.password_talk;
        let mut text = text.to_string();
        for rule in RULES.iter() {
            if !rule.pattern.is_match(&text) {
                continue;
            }
            let placeholders = &mut self.placeholders;
            let replaced = rule
                .pattern
                .replace_all(&text, |captures: &Captures<'_>| {
                    let whole = captures.get(0).expect("a match has group 0");
                    let Some(value) = captures.get(rule.group) else {
                        return whole.as_str().to_string();
                    };
                    let found = Candidate {
                        value: value.as_str(),
                        lead: &text[whole.start()..value.start()],
                        before: &text[..value.start()],
                        after: &text[value.end()..],
                        password_talk,
                    };
                    if !(rule.accept)(&found) {
                        return whole.as_str().to_string();
                    }
                    let placeholder = placeholders.placeholder(rule.kind, value.as_str());
                    format!(
                        "{}{placeholder}{}",
                        &text[whole.start()..value.start()],
                        &text[value.end()..whole.end()]
                    )
                })
                .into_owned();
            text = replaced;
        }
        self.redact_people(&text)
    }

    /// `text` with the known people's names replaced.
    fn redact_people(&mut self, text: &str) -> String {
        let Some(pattern) = &self.people.pattern else {
            return text.to_string();
        };
        let (aliases, names) = (&self.people.aliases, &self.people.names);
        let placeholders = &mut self.placeholders;
        pattern
            .replace_all(text, |captures: &Captures<'_>| {
                let whole = captures.get(0).expect("a match has group 0").as_str();
                let alias = (1..captures.len())
                    .find(|&group| captures.get(group).is_some())
                    .map(|group| &aliases[group - 1]);
                match alias {
                    Some((_, person, capitalised_only))
                        if !capitalised_only || whole.starts_with(char::is_uppercase) =>
                    {
                        placeholders.placeholder(RedactedKind::Person, &names[*person])
                    }
                    _ => whole.to_string(),
                }
            })
            .into_owned()
    }

    /// What was removed so far.
    pub fn report(&self) -> &RedactionReport {
        &self.placeholders.report
    }

    /// `text` with the placeholders of restorable kinds (see [`RedactedKind::restorable`])
    /// replaced by their values; other placeholders stay.
    pub fn restore(&self, text: &str) -> String {
        self.fill(text, RedactedKind::restorable)
    }

    /// `text` with only the people's placeholders replaced by their names: what a summary
    /// gets back when the company keeps contact data out of it.
    pub fn restore_people(&self, text: &str) -> String {
        self.fill(text, |kind| kind == RedactedKind::Person)
    }

    fn fill(&self, text: &str, kinds: impl Fn(RedactedKind) -> bool) -> String {
        let mut text = text.to_string();
        // Longest placeholders first, so that [EMAIL_1] never eats into [EMAIL_10].
        let mut values: Vec<&(String, RedactedKind, String)> =
            self.placeholders.values.iter().collect();
        values.sort_by_key(|(placeholder, _, _)| std::cmp::Reverse(placeholder.len()));
        for (placeholder, kind, value) in values {
            if kinds(*kind) {
                text = text.replace(placeholder.as_str(), value);
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// No text, however odd (any characters, secrets' shapes cut anywhere), makes the
        /// redactor or the restorer panic, and a value it took out is never left whole.
        #[test]
        fn no_text_panics_the_redactor(
            text in "\\PC{0,120}",
            cue in proptest::sample::select(vec!["", "password is ", "Passwort lautet ", "pw ", "IBAN DE89 3704 ", "+49 (030) 12", "AKIA", "eyJ"]),
            name in "\\PC{0,16}",
        ) {
            let mut redactor = Redactor::new();
            redactor.add_person(&name);
            let out = redactor.redact(&format!("{cue}{text}"));
            let _ = redactor.restore(&out);
            let _ = redactor.restore_people(&out);
        }
    }

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
    fn the_audits_leaks_are_caught() {
        let cases = [
            ("call (030) 1234567", RedactedKind::Phone, "1234567"),
            ("it's 555.123.4567", RedactedKind::Phone, "555.123.4567"),
            ("call me on 555 1234", RedactedKind::Phone, "555 1234"),
            ("card 4111.1111.1111.1111", RedactedKind::CardNumber, "4111.1111"),
            ("iban de89-3704-0044-0532-0130-00 ok", RedactedKind::Iban, "de89-3704"),
            ("iban de89370400440532013000", RedactedKind::Iban, "de89370400440532013000"),
            ("secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here", RedactedKind::AwsKey, "wJalrXUtnFEMI"),
            ("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==;EndpointSuffix=core.windows.net", RedactedKind::ApiKey, "Zm9vYmFy"),
            ("the password for the VPN is Winter2024#", RedactedKind::Secret, "Winter2024#"),
            ("my password is: Qwerty123$", RedactedKind::Secret, "Qwerty123$"),
            ("Mein Passwort lautet Sommer2024!", RedactedKind::Secret, "Sommer2024"),
            ("I set it to P@ssw0rd99", RedactedKind::Secret, "P@ssw0rd99"),
            ("my password is correcthorsebattery", RedactedKind::Secret, "correcthorsebattery"),
            ("pw Xy7#kLm2", RedactedKind::Secret, "Xy7#kLm2"),
        ];
        for (text, kind, secret) in cases {
            let (out, report) = redacted(text);
            assert!(!out.contains(secret), "{text} -> {out}");
            assert_eq!(report.count(kind), 1, "{text} -> {out} {report:?}");
        }
    }

    #[test]
    fn ordinary_numbers_and_words_are_kept() {
        for text in [
            "Windows 10 build 10.0.19045 on 2026-11-22 at 10:30:00",
            "ticket INC0012345 and order 123456",
            "my password is wrong",
            "my password is not working since Monday",
            "the password expired, I set it to automatic",
            "Passwort ist abgelaufen, das Kennwort wurde gesperrt",
            "a senha está errada e o PIN é inválido",
            "la contraseña es incorrecta",
            "le mot de passe est expiré",
            "card ending 1234",
            "4111 1111 1111 1112 is not a valid card",
            "we met on 01.05.2024 and 12/05/2024, version v2.3.1, between 2015 2016",
            "it costs $1 234 567 or 12.345.678 €, about 150 000 000 people",
            "commit 3f2a9c1d4e5b6a7980f1e2d3c4b5a69788796a5b is deployed",
            "the token is expired, the pin is bent",
            "changed it to 2.4GHz and set it to 1920x1080, then set it to WPA2-Personal",
            "Outlook 16.0.17928.20114 and Windows 11 build 22631.3447, ISBN 978-3-16-148410-0",
            "your ticket number is 4567 8901, order #123-4567, chamado 2024-000123",
            "O chamado 2024-000123 foi aberto às 14h30, custa R$ 12.345.678, CEP 01310-100",
            "a senha está errada, a senha é a mesma, a senha não funciona",
            "el pedido 123-4567 llegó a las 10:30, la contraseña es demasiado corta",
            "Das Passwort ist zu kurz, Termin am 01.05.2024 um 10:30, Rechnung 2024-12345",
            "le mot de passe est trop court, commande n° 123 456 789, le 01/05/2024 à 10h30",
            "The password must be at least 12 characters; password: see the vault",
            "Please set it to Automatic (Delayed Start) and restart",
            "This is Microsoft Teams, I'm Canadian, basic authentication fails",
        ] {
            let (out, report) = redacted(text);
            assert!(report.is_empty(), "{text} -> {out} {report:?}");
            assert_eq!(out, text);
        }
    }

    #[test]
    fn ordinary_support_talk_in_five_languages_is_kept() {
        for text in [
            "The meeting is at 10:30 on 2024-05-01 in room 4.12, bring the Q3 numbers",
            "Outlook version 2402 (Build 17328.20162) keeps crashing; iOS 17.4.1, app 5.12.0",
            "It costs $1,299.99 per year, or 129 € per month; we have 1 500 users",
            "Order 100-2003-44 was shipped on 12/03/2024, tickets 1234 and 5678",
            "I tried three times and the password still isn't accepted",
            "My password expired yesterday and now I'm locked out",
            "the password has to be 12 characters with a symbol",
            "New password: must contain 3 of 4 character classes",
            "The new password is not syncing to my phone",
            "set it to 100% and it still flickers; I changed it to dark mode",
            "the PIN pad on the printer is broken, he pinned the message in Teams",
            "The token expired, my access token is not valid anymore",
            "use port 8080 or 443, the proxy is at proxy.corp.local:3128",
            "the screen is 1920x1080 at 60Hz, GPU driver 31.0.15.5222",
            "Error code 0x80070005 when installing KB5034441, employee ID E12345",
            "the wifi password is on the sticker under the router",
            "the password is in the password manager; please type your password again",
            "the password policy is strict and the password field is empty",
            "office hours 10.30-12.45 and 14:00-17:30, your case number 5551234 is open",
            "we shipped 1234567 units; the invoice total is 12 345 678 yen",
            "A senha precisa ter 8 caracteres e um número; minha senha expirou",
            "a senha do wifi é a que está atrás do roteador",
            "a política de senha é rígida e o campo de senha está vazio",
            "O chamado foi aberto às 14h30 do dia 05/03/2024",
            "Mi contraseña no funciona desde ayer; la contraseña es la misma que la del correo",
            "la política de contraseñas es estricta, el precio es 1.299,00 € con IVA",
            "el código de verificación no llega",
            "Mein Passwort funktioniert nicht mehr; das WLAN-Passwort steht auf der Rückseite",
            "Das Passwort ist dasselbe wie vorher; Die Passwort-Richtlinie ist streng",
            "Das kostet 1.499,00 Euro, Lieferung am 03.04.2025; ich habe es auf Deutsch umgestellt",
            "Mon mot de passe ne marche plus depuis la mise à jour",
            "Le mot de passe est le même que pour la messagerie",
            "La facture n° 2024-0012345 est de 1 234,56 €; je l'ai changé en mode sombre",
            "le mot de passe du wifi est sur l'étiquette",
        ] {
            let (out, report) = redacted(text);
            assert!(report.is_empty(), "{text} -> {out} {report:?}");
        }
    }

    #[test]
    fn secrets_said_in_other_ways_are_caught() {
        for (text, secret) in [
            ("password = 'abc def 123'", "abc def 123"),
            (
                "the password for the admin account is still Summer21",
                "Summer21",
            ),
            ("login: jsmith / pass: Kx82!aa", "Kx82!aa"),
            ("my passcode is 909090", "909090"),
            ("change the password to Kx82!aa2", "Kx82!aa2"),
            ("Passwort für das VPN lautet: Kaffee#2025", "Kaffee#2025"),
            ("meine PIN lautet 2580", "2580"),
            ("o PIN é 1234", "1234"),
            ("senha nova: Floresta2025", "Floresta2025"),
            ("la contraseña nueva es Nieve#11", "Nieve#11"),
            ("mot de passe: Chocolat2025", "Chocolat2025"),
            ("my number is 0151 23456789", "23456789"),
            ("telefone (11) 3333-4444", "3333-4444"),
            ("tel 02 98 76 54 32", "98 76 54 32"),
            ("card 4111111111111111 exp 10/27", "4111111111111111"),
            ("IBAN NL91ABNA0417164300", "NL91ABNA0417164300"),
            ("iban: it60 x054 2811 1010 0000 0123 456", "0000 0123 456"),
            (
                "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "wJalrXUtnFEMI",
            ),
            (
                "x-api-key: 3f9a7c2e1b5d4a6f8e0c9b7a5d3f1e2c",
                "3f9a7c2e1b5d4a6f8e0c9b7a5d3f1e2c",
            ),
            (
                "client_secret: 8Q~aBcdEfGhIjKlMnOpQrStUvWxYz0123456789",
                "8Q~aBcdEfGhIjKlMnOpQ",
            ),
            ("postgres://app:S3cr3t!@db.internal:5432/prod", "S3cr3t!"),
            (
                "Authorization: Basic YWRtaW46aHVudGVyMg==",
                "YWRtaW46aHVudGVyMg==",
            ),
        ] {
            let (out, _) = redacted(text);
            assert!(!out.contains(secret), "{text} -> {out}");
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

    #[test]
    fn a_person_is_one_placeholder_for_the_name_and_its_words() {
        let mut redactor = Redactor::new();
        redactor.add_person("Priya Nair");
        redactor.add_person("Priya");
        redactor.add_person("Will Turner");
        redactor.add_person("Customer");
        redactor.add_person("#Person1#");
        let out = redactor.redact(
            "Priya Nair here; thanks priya! NAIR speaking. Will will call. Customer #Person1# agrees.",
        );
        assert_eq!(
            out,
            "[PERSON_1] here; thanks [PERSON_1]! [PERSON_1] speaking. [PERSON_2] will call. Customer #Person1# agrees."
        );
        assert_eq!(redactor.report().count(RedactedKind::Person), 2);
        assert_eq!(
            redactor.restore_people("[PERSON_1] helped [PERSON_2]"),
            "Priya Nair helped Will Turner"
        );
    }

    #[test]
    fn a_person_who_introduces_themselves_is_a_person_from_then_on() {
        let mut redactor = Redactor::new();
        let first = redactor.redact("Hi, my name is Chase Carter and my PIN is 4586");
        let second = redactor.redact("Carter again: the chase is over, Chase");
        assert_eq!(first, "Hi, my name is [PERSON_1] and my PIN is [SECRET_1]");
        assert_eq!(second, "[PERSON_1] again: the chase is over, [PERSON_1]");
    }

    #[test]
    fn a_weak_cue_takes_a_plain_value_only_once_passwords_were_talked_of() {
        let mut redactor = Redactor::new();
        assert_eq!(
            redactor.redact("I set it to Office365"),
            "I set it to Office365"
        );
        redactor.redact("what is the new password?");
        assert_eq!(
            redactor.redact("I set it to Winter2024"),
            "I set it to [SECRET_1]"
        );
    }

    #[test]
    fn a_name_inside_an_address_goes_with_the_address() {
        let mut redactor = Redactor::new();
        redactor.add_person("Bob Lee");
        let out = redactor.redact("Bob here, bob.lee@example.com");
        assert_eq!(out, "[PERSON_1] here, [EMAIL_1]");
    }
}
