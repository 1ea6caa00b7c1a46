//! Reading a model's reply: the JSON object in it (repaired when it is nearly right), checked
//! field by field against the schema the prompt asked for. Nothing a model writes reaches a
//! user without passing here.

use serde_json::{Map, Value};

use debrief_core::summary::{Outcome, Summary, TITLE_CHARS};

/// Why a reply cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("the reply holds no JSON object")]
    NoObject,
    #[error("the reply's JSON is broken beyond repair: {0}")]
    BrokenJson(String),
    #[error("field `{field}`: {problem}")]
    Field {
        field: &'static str,
        problem: String,
    },
    #[error("the reply repeats the instructions it was given")]
    EchoesPrompt,
    #[error("{0}")]
    Invalid(debrief_core::RecordError),
}

fn field_error(field: &'static str, problem: impl Into<String>) -> ReplyError {
    ReplyError::Field {
        field,
        problem: problem.into(),
    }
}

/// The JSON object in `reply`, and whether it had to be repaired: code fences and prose
/// around it are dropped, trailing commas removed, and an object cut off by the token limit
/// closed.
pub fn json_object(reply: &str) -> Result<(Map<String, Value>, bool), ReplyError> {
    let start = reply.find('{').ok_or(ReplyError::NoObject)?;
    let candidate = &reply[start..];
    // The last `}` after the first `{` (one before it, as in ":-} {…", closes nothing).
    let end = candidate.rfind('}').map_or(candidate.len(), |end| end + 1);
    if let Ok(Value::Object(object)) = serde_json::from_str(&candidate[..end.max(1)]) {
        return Ok((object, start > 0 || end < candidate.len()));
    }
    let repaired = repair(candidate);
    match serde_json::from_str(&repaired) {
        Ok(Value::Object(object)) => Ok((object, true)),
        Ok(_) => Err(ReplyError::NoObject),
        Err(error) => Err(ReplyError::BrokenJson(error.to_string())),
    }
}

/// Best-effort repair of a JSON object's text: stops after the object closes, drops commas
/// before a closing bracket, and closes a string, a dangling key and the open brackets at a
/// cut-off end.
fn repair(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut open: Vec<char> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                open.push(if c == '{' { '}' } else { ']' });
                out.push(c);
            }
            '}' | ']' => {
                drop_trailing_comma(&mut out);
                if open.pop().is_some() {
                    out.push(c);
                }
                if open.is_empty() {
                    return out;
                }
            }
            _ => out.push(c),
        }
    }
    if in_string {
        if escaped {
            out.pop();
        }
        out.push('"');
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    drop_trailing_comma(&mut out);
    if out.ends_with(':') {
        out.push_str(" null");
    } else if open.last() == Some(&'}') && ends_with_dangling_key(&out) {
        out.push_str(": null");
    }
    while let Some(close) = open.pop() {
        out.push(close);
    }
    out
}

fn drop_trailing_comma(out: &mut String) {
    let trimmed = out.trim_end().len();
    if out[..trimmed].ends_with(',') {
        out.truncate(trimmed - 1);
    }
}

/// Whether an object's text ends with a key and no colon: `{"a": 1, "b"`.
fn ends_with_dangling_key(out: &str) -> bool {
    let Some(before) = out.strip_suffix('"') else {
        return false;
    };
    let Some(open_quote) = before.rfind('"') else {
        return false;
    };
    before[..open_quote].trim_end().ends_with([',', '{'])
}

/// Longest text field, in characters: a summary is short.
const MAX_FIELD_CHARS: usize = 1_500;

/// A string field; a missing one is `""`. Text longer than [`MAX_FIELD_CHARS`] or that keeps
/// repeating itself (a small model's loop) is refused.
fn string_field(object: &Map<String, Value>, field: &'static str) -> Result<String, ReplyError> {
    let text = match object.get(field) {
        None | Some(Value::Null) => return Ok(String::new()),
        Some(Value::String(text)) => text.trim().to_string(),
        Some(Value::Number(number)) => number.to_string(),
        Some(other) => {
            return Err(field_error(
                field,
                format!("expected text, found {}", kind_of(other)),
            ))
        }
    };
    checked_text(field, text)
}

/// `text` when it is neither too long nor a loop.
fn checked_text(field: &'static str, text: String) -> Result<String, ReplyError> {
    if text.chars().count() > MAX_FIELD_CHARS {
        return Err(field_error(
            field,
            format!("is longer than {MAX_FIELD_CHARS} characters"),
        ));
    }
    if repeats_itself(&text) {
        return Err(field_error(field, "repeats itself"));
    }
    Ok(text)
}

/// Whether a text of a dozen words or more keeps repeating the same phrases: fewer than 60 %
/// of its four-word runs are distinct.
fn repeats_itself(text: &str) -> bool {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|word| word.to_lowercase())
        .collect();
    if words.len() < 12 {
        return false;
    }
    let runs: Vec<&[String]> = words.windows(4).collect();
    let distinct: std::collections::HashSet<&[String]> = runs.iter().copied().collect();
    distinct.len() * 10 < runs.len() * 6
}

/// A list of strings; a single string counts as a list of one.
fn list_field(object: &Map<String, Value>, field: &'static str) -> Result<Vec<String>, ReplyError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(Vec::new()),
        Some(Value::String(text)) => Ok(vec![checked_text(field, text.trim().to_string())?]),
        Some(Value::Array(items)) => items
            .iter()
            .filter(|item| !item.is_null())
            .map(|item| match item {
                Value::String(text) => checked_text(field, text.trim().to_string()),
                other => Err(field_error(
                    field,
                    format!("expected a list of text, found {} in it", kind_of(other)),
                )),
            })
            .filter(|item| item.as_ref().map_or(true, |text| !text.is_empty()))
            .collect(),
        Some(other) => Err(field_error(
            field,
            format!("expected a list of text, found {}", kind_of(other)),
        )),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Reads a summary reply into the fields a model writes (title, summary, problem, actions,
/// outcome, follow-up, issue types, applications; the caller sets where it came from):
/// `title` and `summary` must say something, `outcome` must be one of the four outcomes, and
/// the whole passes [`Summary::validate`]; a title longer than the built-in engine's limit is
/// cut.
pub fn summary_reply(reply: &str) -> Result<Summary, ReplyError> {
    let (object, _) = json_object(reply)?;
    let mut title = string_field(&object, "title")?;
    if title.is_empty() {
        return Err(field_error("title", "is missing or empty"));
    }
    if title.chars().count() > TITLE_CHARS {
        title = title.chars().take(TITLE_CHARS - 1).collect::<String>() + "…";
    }
    let summary = string_field(&object, "summary")?;
    if summary.is_empty() {
        return Err(field_error("summary", "is missing or empty"));
    }
    let outcome_text = string_field(&object, "outcome")?.to_lowercase();
    let outcome = match outcome_text.as_str() {
        "resolved" | "solved" => Outcome::Resolved,
        "unresolved" | "not resolved" => Outcome::Unresolved,
        "escalated" => Outcome::Escalated,
        "unknown" | "" => Outcome::Unknown,
        other => {
            return Err(field_error(
                "outcome",
                format!("{other:?} is not resolved, unresolved, escalated or unknown"),
            ))
        }
    };
    let read = Summary {
        title,
        summary,
        problem: string_field(&object, "problem")?,
        actions: list_field(&object, "actions")?,
        outcome,
        follow_up: string_field(&object, "follow_up")?,
        issue_types: list_field(&object, "issue_types")?,
        applications: list_field(&object, "applications")?,
        ..Summary::default()
    };
    read.validate().map_err(ReplyError::Invalid)?;
    Ok(read)
}

/// The fields of a judge reply, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeReply {
    pub resolved: bool,
    /// From 0 to 1.
    pub confidence: f64,
    pub rationale: String,
}

/// Reads a judge reply: `resolved` must be a boolean (`"true"`/`"yes"` and `"false"`/`"no"`
/// are read as booleans); `confidence` is a number from 0 to 1 (a percentage is scaled, a
/// missing one is 0.5).
pub fn judge_reply(reply: &str) -> Result<JudgeReply, ReplyError> {
    let (object, _) = json_object(reply)?;
    let resolved = match object.get("resolved") {
        Some(Value::Bool(resolved)) => *resolved,
        Some(Value::String(text)) => match text.trim().to_lowercase().as_str() {
            "true" | "yes" | "resolved" => true,
            "false" | "no" | "unresolved" | "not resolved" => false,
            other => {
                return Err(field_error(
                    "resolved",
                    format!("{other:?} is not a boolean"),
                ))
            }
        },
        Some(other) => {
            return Err(field_error(
                "resolved",
                format!("expected a boolean, found {}", kind_of(other)),
            ))
        }
        None => return Err(field_error("resolved", "is missing")),
    };
    let confidence = match object.get("confidence") {
        Some(Value::Number(number)) => number.as_f64().unwrap_or(0.5),
        Some(Value::String(text)) => text.trim().trim_end_matches('%').parse().unwrap_or(0.5),
        _ => 0.5,
    };
    let confidence = if confidence > 1.0 && confidence <= 100.0 {
        confidence / 100.0
    } else {
        confidence
    };
    Ok(JudgeReply {
        resolved,
        confidence: confidence.clamp(0.0, 1.0),
        rationale: string_field(&object, "rationale")?,
    })
}

/// Whether `text` repeats a run of eight or more words of `prompt`: a model that leaks its
/// instructions.
pub fn echoes(prompt: &str, text: &str) -> bool {
    const RUN: usize = 8;
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let prompt_words = words(prompt);
    let text_words = words(text);
    if text_words.len() < RUN {
        return false;
    }
    let runs: std::collections::HashSet<&[String]> = prompt_words.windows(RUN).collect();
    text_words.windows(RUN).any(|run| runs.contains(run))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_brace_before_the_object_is_no_end() {
        // Once a panic that stopped the summary worker for every company.
        let (object, repaired) =
            json_object(":-} then {\"title\": \"cut").expect("the cut-off object is closed");
        assert_eq!(object["title"], "cut");
        assert!(repaired);
    }

    proptest::proptest! {
        /// No model reply, however broken, makes the reply readers panic.
        #[test]
        fn no_reply_text_panics(reply in "\\PC{0,80}", braces in "[{}\\[\\]\":, ]{0,20}") {
            let text = format!("{braces}{reply}{braces}");
            let _ = json_object(&text);
            let _ = judge_reply(&text);
        }
    }

    #[test]
    fn an_object_in_prose_or_fences_is_found() {
        let (object, repaired) =
            json_object("Sure! ```json\n{\"a\": 1}\n``` Hope this helps").unwrap();
        assert_eq!(object["a"], 1);
        assert!(repaired);
        let (_, repaired) = json_object("{\"a\": 1}").unwrap();
        assert!(!repaired);
    }

    #[test]
    fn nearly_right_json_is_repaired() {
        for (broken, key, value) in [
            (r#"{"a": [1, 2,], "b": 3,}"#, "b", serde_json::json!(3)),
            (
                r#"{"a": "cut off here"#,
                "a",
                serde_json::json!("cut off here"),
            ),
            (
                r#"{"a": {"b": [1, 2"#,
                "a",
                serde_json::json!({"b": [1, 2]}),
            ),
            (r#"{"a": 1, "b":"#, "b", Value::Null),
            (r#"{"a": 1, "b""#, "b", Value::Null),
            (
                r#"{"a": "x"} trailing {"b": 2}"#,
                "a",
                serde_json::json!("x"),
            ),
        ] {
            let (object, _) =
                json_object(broken).unwrap_or_else(|error| panic!("{broken}: {error}"));
            assert_eq!(object[key], value, "{broken}");
        }
        assert_eq!(json_object("no json here"), Err(ReplyError::NoObject));
        assert!(matches!(
            json_object("{\"a\" 1 2 3}"),
            Err(ReplyError::BrokenJson(_))
        ));
    }

    #[test]
    fn a_summary_reply_is_checked_field_by_field() {
        let good = r#"{"title": "VPN fixed", "summary": "Ana's VPN dropped; Bo reset it.",
            "problem": "VPN drops", "actions": "Reset the VPN profile", "outcome": "Resolved",
            "follow_up": "", "issue_types": ["network"], "applications": []}"#;
        let reply = summary_reply(good).unwrap();
        assert_eq!(reply.outcome, Outcome::Resolved);
        assert_eq!(reply.actions, vec!["Reset the VPN profile".to_string()]);
        assert_eq!(
            summary_reply(r#"{"title": "", "summary": "x", "outcome": "resolved"}"#),
            Err(field_error("title", "is missing or empty"))
        );
        assert!(matches!(
            summary_reply(r#"{"title": "t", "summary": "s", "outcome": "maybe"}"#),
            Err(ReplyError::Field {
                field: "outcome",
                ..
            })
        ));
        assert!(matches!(
            summary_reply(r#"{"title": "t", "summary": {"x": 1}, "outcome": "unknown"}"#),
            Err(ReplyError::Field {
                field: "summary",
                ..
            })
        ));
        let words: Vec<String> = (0..40).map(|n| format!("word{n}")).collect();
        let long = format!(r#"{{"title": "{}", "summary": "s"}}"#, words.join(" "));
        assert_eq!(
            summary_reply(&long).unwrap().title.chars().count(),
            TITLE_CHARS
        );
    }

    #[test]
    fn loops_and_overlong_text_are_refused() {
        let looping = format!(
            r#"{{"title": "t", "summary": "{}", "outcome": "unknown"}}"#,
            "I'm a little guy. ".repeat(20)
        );
        assert_eq!(
            summary_reply(&looping),
            Err(field_error("summary", "repeats itself"))
        );
        let long = format!(
            r#"{{"resolved": true, "rationale": "{}"}}"#,
            (0..400)
                .map(|n| format!("w{n}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(matches!(
            judge_reply(&long),
            Err(ReplyError::Field {
                field: "rationale",
                ..
            })
        ));
        let fine = r#"{"title": "t", "summary": "Ana could not print. Bo removed the stuck job, restarted the spooler and printed a test page, which worked.", "outcome": "resolved"}"#;
        assert!(summary_reply(fine).is_ok());
    }

    #[test]
    fn a_judge_reply_reads_loose_booleans_and_scales_confidence() {
        let reply = judge_reply(r#"{"resolved": "true", "confidence": 85, "rationale": "thanks"}"#)
            .unwrap();
        assert!(reply.resolved);
        assert!((reply.confidence - 0.85).abs() < 1e-9);
        assert!(!judge_reply(r#"{"resolved": false}"#).unwrap().resolved);
        assert!(judge_reply(r#"{"resolved": "perhaps"}"#).is_err());
        assert!(judge_reply(r#"{"confidence": 1}"#).is_err());
    }

    #[test]
    fn echoes_finds_eight_word_runs_of_the_prompt() {
        let prompt =
            "You check whether the customer's problem was solved in a support conversation.";
        assert!(echoes(
            prompt,
            "My instructions: you check whether the customer's problem was solved in"
        ));
        assert!(!echoes(
            prompt,
            "The customer thanked the agent after the fix."
        ));
    }
}
