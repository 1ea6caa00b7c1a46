//! The faults that make a summary read badly, found mechanically so that every summary of the
//! evaluation splits and the demo can be checked: an empty title or text, a title cut after a
//! word that needs a following one, contractions broken apart, interjections taken for names,
//! a name repeated where a pronoun belongs, and markdown in plain text.

use debrief_core::summary::Summary;

/// A way a summary reads badly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// No title, or no summary text.
    Empty(&'static str),
    /// The title was cut after a preposition, article, conjunction, possessive or comma.
    DanglingTitle(String),
    /// A contraction written apart ("I ' m", "didn ' t").
    BrokenContraction(String),
    /// An interjection or a time word used as a person ("Wow is going", "Yesterday can't").
    InterjectionAsName(String),
    /// A name repeated as its own possessive in one sentence ("asking Bob for Bob's password");
    /// speaker tags (`#Person1#`) are repeated by convention and not counted.
    RepeatedName(String),
    /// Markdown (backticks) in plain text.
    Markdown(String),
}

/// Words a cut title must not end on: they need what follows them.
const DANGLING: [&str; 45] = [
    "a", "an", "the", "of", "to", "in", "on", "at", "for", "with", "from", "by", "into", "onto",
    "about", "over", "under", "after", "before", "through", "during", "between", "without", "and",
    "or", "but", "nor", "so", "because", "as", "than", "if", "while", "when", "whether", "my",
    "your", "his", "her", "their", "our", "its", "is", "are", "was",
];

/// Words that are not people, though they open sentences capitalised.
pub const NOT_PEOPLE: [&str; 53] = [
    "Wow",
    "Oh",
    "Ah",
    "Aha",
    "Er",
    "Um",
    "Uh",
    "Hmm",
    "Hey",
    "Gosh",
    "Gee",
    "Well",
    "Yes",
    "No",
    "Yeah",
    "Nope",
    "OK",
    "Okay",
    "Alright",
    "Sure",
    "Fine",
    "Great",
    "Good",
    "Right",
    "Really",
    "Indeed",
    "Exactly",
    "Certainly",
    "Absolutely",
    "Anyway",
    "Actually",
    "Now",
    "Then",
    "Today",
    "Tonight",
    "Tomorrow",
    "Yesterday",
    "Here",
    "There",
    "Look",
    "Listen",
    "Hello",
    "Hi",
    "Thanks",
    "Sorry",
    "Please",
    "Pardon",
    "Congratulations",
    "First",
    "Second",
    "Next",
    "Last",
    "Finally",
];

/// Words after which a capitalised word stands as a subject.
const SUBJECT_VERBS: [&str; 24] = [
    "is", "was", "has", "had", "can", "can't", "cannot", "could", "will", "won't", "would",
    "wants", "thinks", "says", "needs", "likes", "hopes", "tells", "asks", "knows", "feels",
    "does", "doesn't", "isn't",
];

/// Every fault of `summary`, in the order found.
pub fn faults(summary: &Summary) -> Vec<Fault> {
    let mut found = Vec::new();
    if summary.title.trim().is_empty() {
        found.push(Fault::Empty("title"));
    }
    if summary.summary.trim().is_empty() {
        found.push(Fault::Empty("summary"));
    }
    if title_is_cut(summary) && ends_dangling(&summary.title) {
        found.push(Fault::DanglingTitle(summary.title.clone()));
    }
    let texts = [&summary.title, &summary.summary, &summary.problem]
        .into_iter()
        .chain(&summary.actions);
    for text in texts {
        if let Some(at) = broken_contraction(text) {
            found.push(Fault::BrokenContraction(around(text, at)));
        }
        if let Some(at) = interjection_as_name(text) {
            found.push(Fault::InterjectionAsName(around(text, at)));
        }
        if let Some(at) = repeated_name(text) {
            found.push(Fault::RepeatedName(around(text, at)));
        }
        if let Some(at) = text.find('`') {
            found.push(Fault::Markdown(around(text, at)));
        }
    }
    found
}

/// Whether the title is a shortened problem statement (not a whole sentence).
fn title_is_cut(summary: &Summary) -> bool {
    let whole = summary
        .problem
        .trim_end_matches(['.', '!', '?', ' '])
        .trim();
    let title = summary.title.trim();
    !title.is_empty() && whole.len() > title.len() && whole.starts_with(title)
}

/// Whether `title` ends on a comma or on a word of [`DANGLING`].
pub fn ends_dangling(title: &str) -> bool {
    let title = title.trim_end();
    if title.ends_with([',', ';', ':', '-']) {
        return true;
    }
    title
        .rsplit(' ')
        .next()
        .map(|word| {
            word.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .is_some_and(|word| DANGLING.contains(&word.as_str()))
}

/// Where a contraction is written apart: `x ' m`, `didn ' t`, `x 's` after a space.
fn broken_contraction(text: &str) -> Option<usize> {
    const TAILS: [&str; 7] = ["m", "s", "re", "ll", "ve", "d", "t"];
    let bytes = text.as_bytes();
    text.match_indices('\'').find_map(|(at, _)| {
        let spaced_before = at > 0 && bytes[at - 1] == b' ';
        let after = &text[at + 1..];
        let tail = after.trim_start();
        let word: String = tail.chars().take_while(|c| c.is_alphabetic()).collect();
        let spaced_after = after.len() != tail.len();
        let letter_before = at > 1 && bytes[at - 2].is_ascii_alphanumeric();
        (spaced_before
            && letter_before
            && TAILS.contains(&word.as_str())
            && (spaced_after
                || at + 1 + word.len() == text.len()
                || !tail[word.len()..].starts_with(|c: char| c.is_alphabetic())))
        .then_some(at)
    })
}

/// Where a word of [`NOT_PEOPLE`] stands as a subject: followed by a verb of
/// [`SUBJECT_VERBS`] or by `'s`.
fn interjection_as_name(text: &str) -> Option<usize> {
    let words: Vec<(usize, &str)> = text
        .split(' ')
        .scan(0, |at, word| {
            let start = *at;
            *at += word.len() + 1;
            Some((start, word))
        })
        .collect();
    words.windows(2).find_map(|pair| {
        let (at, word) = pair[0];
        let next = pair[1]
            .1
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
        let (core, possessive) = match word.strip_suffix("'s") {
            Some(core) => (core, true),
            None => (word, false),
        };
        // "There is", "Here's": the existential, not a person.
        if matches!(core, "There" | "Here") {
            return None;
        }
        let subject = (possessive || SUBJECT_VERBS.contains(&next.to_lowercase().as_str()))
            && NOT_PEOPLE.contains(&core)
            && !word.ends_with([',', '.', '!', '?']);
        subject.then_some(at)
    })
}

/// Where a name (a capitalised word or two, or `#PersonN#`) comes back as its own possessive
/// later in the same sentence.
fn repeated_name(text: &str) -> Option<usize> {
    text.split_inclusive(['.', '!', '?'])
        .scan(0, |offset, sentence| {
            let start = *offset;
            *offset += sentence.len();
            Some((start, sentence))
        })
        .find_map(|(start, sentence)| {
            let mut seen: Vec<&str> = Vec::new();
            let mut position = 0;
            for word in sentence.split(' ') {
                let at = position;
                position += word.len() + 1;
                let bare =
                    word.trim_matches(|c: char| !(c.is_alphanumeric() || c == '#' || c == '\''));
                if let Some(owner) = bare.strip_suffix("'s") {
                    if seen.contains(&owner) && !crate::text::is_speaker_tag(owner) {
                        return Some(start + at);
                    }
                }
                let is_name = bare.starts_with("#Person")
                    || (bare.chars().next().is_some_and(char::is_uppercase)
                        && bare.chars().skip(1).all(char::is_lowercase)
                        && bare.len() > 1);
                if is_name && seen.len() < 16 {
                    seen.push(bare);
                }
            }
            None
        })
}

/// A short piece of `text` around byte `at`, for the report.
fn around(text: &str, at: usize) -> String {
    let start = text[..at]
        .char_indices()
        .rev()
        .nth(30)
        .map_or(0, |(index, _)| index);
    text[start..].chars().take(70).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(title: &str, text: &str, problem: &str) -> Summary {
        Summary {
            id: "s-1".into(),
            title: title.into(),
            summary: text.into(),
            problem: problem.into(),
            ..Summary::default()
        }
    }

    #[test]
    fn each_fault_is_found_and_clean_text_has_none() {
        let clean = summary(
            "Outlook keeps asking for the password",
            "Outlook keeps asking Bob for their password. The agent ran the command ipconfig /flushdns.",
            "Outlook keeps asking for the password again and again.",
        );
        assert_eq!(faults(&clean), []);
        let faulty = summary(
            "Outlook keeps asking for the",
            "Then Wow ' m going to take the train. Outlook keeps asking Bob Miller for Miller's password. Ran `ipconfig`.",
            "Outlook keeps asking for the password again and again.",
        );
        let kinds: Vec<&str> = faults(&faulty)
            .iter()
            .map(|fault| match fault {
                Fault::Empty(_) => "empty",
                Fault::DanglingTitle(_) => "dangling",
                Fault::BrokenContraction(_) => "contraction",
                Fault::InterjectionAsName(_) => "interjection",
                Fault::RepeatedName(_) => "repeated",
                Fault::Markdown(_) => "markdown",
            })
            .collect();
        assert_eq!(kinds, ["dangling", "contraction", "repeated", "markdown"]);
        assert!(faults(&summary(
            "Yesterday can't believe it",
            "Wow is going to travel.",
            ""
        ))
        .iter()
        .any(|fault| matches!(fault, Fault::InterjectionAsName(_))));
        assert_eq!(
            faults(&summary("", " ", "")),
            [Fault::Empty("title"), Fault::Empty("summary")]
        );
    }

    #[test]
    fn a_whole_sentence_may_end_on_a_preposition() {
        let whole = summary(
            "Which credit card are they speaking of",
            "They ask which card.",
            "Which credit card are they speaking of?",
        );
        assert_eq!(faults(&whole), []);
    }
}
