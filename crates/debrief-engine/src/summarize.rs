//! The built-in summarizer: deterministic, no model. It names the people as the transcript
//! does (a speaker's `speaker_name`, or the name the other party calls them by, or "the
//! customer" / "the agent"), leaves greetings and small talk out, picks the sentences that
//! carry the conversation, and rewrites them in the third person ("I reset your profile" said
//! by Ana to Bob becomes "Ana reset Bob's profile").

use foldhash::{HashMap, HashMapExt};

use debrief_core::session::Speaker;
use debrief_core::summary::{Outcome, Summary, TITLE_CHARS};

use crate::readability::{ends_dangling, NOT_PEOPLE};
use crate::text::is_speaker_tag;
use debrief_core::Session;

use crate::judge::Judge;
use crate::language::Language;
use crate::text::{lowercase_aligned, lowercase_into};

/// The engine name written into summaries.
pub const ENGINE: &str = "builtin-1";

/// Most sentences in the narrative.
const NARRATIVE_SENTENCES: usize = 3;

/// Sentence length the selection prefers, in words.
const IDEAL_WORDS: f64 = 12.0;

/// Weights of a sentence's score: how central its words are to the dialogue, and how early
/// it comes (conversations state their point early).
const CENTRALITY_WEIGHT: f64 = 0.5;
const POSITION_WEIGHT: f64 = 8.0;

/// The customer turns that issue-type tagging reads, and at most how many of their words.
const PROBLEM_TURNS: usize = 3;
const PROBLEM_WORDS: usize = 40;

/// Below this many words, two narrative sentences get a third.
const SHORT_NARRATIVE_WORDS: usize = 14;

/// Words that open a turn without content.
const OPENERS: [&str; 16] = [
    "oh", "well", "ok", "okay", "yes", "yeah", "no", "sure", "hi", "hello", "hey", "so", "um",
    "uh", "alright", "right",
];

/// Whole sentences that carry no content.
const SMALL_TALK: [&str; 21] = [
    "how are you",
    "nice to meet you",
    "good morning",
    "good afternoon",
    "good evening",
    "thank you",
    "thanks",
    "you're welcome",
    "goodbye",
    "bye",
    "see you",
    "have a nice day",
    "what happened",
    "what's wrong",
    "really",
    "i see",
    "that's right",
    "excuse me",
    "i'm sorry",
    "i am sorry",
    "sorry about that",
];

/// Phrases that promise a follow-up.
const FOLLOW_UP_CUES: [&str; 7] = [
    "tomorrow",
    "follow up",
    "check back",
    "call you",
    "will contact",
    "next week",
    "let me know",
];

/// Capitalised words that are not names when they open or close a turn.
const NOT_NAMES: [&str; 24] = [
    "I", "Yes", "No", "Oh", "Well", "OK", "Okay", "Sir", "Madam", "Mom", "Dad", "Hi", "Hello",
    "Thanks", "Sorry", "Please", "Sure", "Good", "Great", "Excuse", "Mr", "Mrs", "Ms", "Miss",
];

fn default_name(speaker: Speaker) -> &'static str {
    match speaker {
        Speaker::Customer => "the customer",
        Speaker::Agent | Speaker::AiAgent => "the agent",
        Speaker::System => "the system",
    }
}

/// A name the speaker calls the other party by: "Hi, Fanny." / "Mike, come here" / "…, Tom?".
fn vocative(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let candidate = |word: &str| {
        let name = word.trim_matches(|c: char| !c.is_alphanumeric());
        let capitalised = name.chars().next().is_some_and(char::is_uppercase)
            && name.chars().skip(1).all(char::is_lowercase)
            && name.len() > 1;
        (capitalised && !NOT_NAMES.contains(&name) && !NOT_PEOPLE.contains(&name))
            .then(|| name.to_string())
    };
    // "Hi, Fanny." / "Fanny, come here"
    for (index, word) in words.iter().take(3).enumerate() {
        let opener = index == 0
            || OPENERS.contains(
                &words[index - 1]
                    .trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
                    .as_str(),
            );
        if opener && word.ends_with(',') || (index > 0 && opener && word.ends_with(['.', '!', '?']))
        {
            if let Some(name) = candidate(word) {
                return Some(name);
            }
        }
    }
    // "…, Tom?"
    let last = words.last()?;
    let before = words.get(words.len().checked_sub(2)?)?;
    if before.ends_with(',') && last.ends_with(['.', '!', '?']) {
        return candidate(last);
    }
    None
}

/// Display names of the speakers, by their transcript label.
fn speaker_names(session: &Session) -> HashMap<String, String> {
    let label = |turn: &debrief_core::session::Turn| {
        turn.speaker_name
            .clone()
            .unwrap_or_else(|| default_name(turn.speaker).to_string())
    };
    let mut labels: Vec<String> = Vec::new();
    for turn in &session.turns {
        let name = label(turn);
        if !labels.contains(&name) {
            labels.push(name);
        }
    }
    let mut names: HashMap<String, String> = labels
        .iter()
        .map(|name| (name.clone(), name.clone()))
        .collect();
    if labels.len() == 2 {
        // Ordered, so that ties between names are broken the same way on every run.
        let mut votes: std::collections::BTreeMap<(usize, String), usize> =
            std::collections::BTreeMap::new();
        for turn in &session.turns {
            if let Some(name) = vocative(&turn.text) {
                let other = usize::from(labels[0] == label(turn));
                *votes.entry((other, name)).or_insert(0) += 1;
            }
        }
        for (index, label) in labels.iter().enumerate() {
            let generic = label.starts_with('#') || label.starts_with("the ");
            let best = votes
                .iter()
                .filter(|((other, _), _)| *other == index)
                .max_by_key(|(_, count)| **count)
                .map(|((_, name), _)| name.clone());
            if let (true, Some(name)) = (generic, best) {
                names.insert(label.clone(), name);
            }
        }
    }
    names
}

/// Splits a turn into sentences, each with its closing punctuation.
fn sentences(text: &str) -> Vec<&str> {
    text.split_inclusive(['.', '!', '?'])
        .map(str::trim)
        .filter(|sentence| !sentence.is_empty())
        .collect()
}

/// The words of `text` (letters, digits and apostrophes), as written.
fn split_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|word| !word.is_empty())
}

/// Whether a sentence, given in lower case, is small talk: too short to say anything, or a
/// courtesy.
fn is_small_talk(lowered: &str) -> bool {
    let core = lowered.trim_matches(|c: char| !c.is_alphanumeric());
    // Counted up to six: every courtesy is shorter.
    let words = split_words(core).take(6).count();
    words < 4 || (words < 6 && SMALL_TALK.iter().any(|phrase| core.starts_with(phrase)))
}

/// Rewrites first and second person into the third, with the speakers' names.
pub fn third_person(sentence: &str, speaker: &str, listener: &str) -> String {
    let mut out = String::with_capacity(sentence.len() + 16);
    let mut after_subject = false;
    let mut lowered = String::new();
    let mut previous = String::new();
    // Whether each person has been named in the sentence so far (never for speaker tags): set
    // when a replacement names them, so the check costs nothing per word.
    let nameable = |name: &str| !name.is_empty() && !is_speaker_tag(name);
    let (mut speaker_said, mut listener_said) = (false, false);
    let mut tokens = sentence.split_whitespace().peekable();
    while let Some(token) = tokens.next() {
        let is_edge = |c: char| !(c.is_alphanumeric() || c == '\'');
        let from_core = token.trim_start_matches(is_edge);
        let core = from_core.trim_end_matches(is_edge);
        let prefix = &token[..token.len() - from_core.len()];
        let suffix = &from_core[core.len()..];
        // Every pronoun and verb form below is short: longer words are left as they are.
        lowered.clear();
        if core.len() <= "yourself".len() {
            lowercase_into(core, &mut lowered);
        }
        // A person already named in the sentence is referred to, not named again: "asking
        // Bob for their password", not "asking Bob for Bob's password". Speaker tags
        // (`#Person1#`) are repeated, as summaries written with them do.
        // The replacement: a word and what follows it.
        let replaced: Option<(&str, &str)> = match lowered.as_str() {
            "my" | "mine" if speaker_said => Some(("their", "")),
            "me" if speaker_said => Some(("them", "")),
            "myself" if speaker_said => Some(("themselves", "")),
            "your" | "yours" if listener_said => Some(("their", "")),
            "yourself" if listener_said => Some(("themselves", "")),
            "i" | "me" | "myself" => Some((speaker, "")),
            "i'm" => Some((speaker, " is")),
            "i've" => Some((speaker, " has")),
            "i'll" => Some((speaker, " will")),
            "i'd" => Some((speaker, " would")),
            "my" | "mine" => Some((speaker, "'s")),
            "you" | "yourself" => Some((listener, "")),
            "you're" => Some((listener, " is")),
            "you've" => Some((listener, " has")),
            "you'll" => Some((listener, " will")),
            "you'd" => Some((listener, " would")),
            "your" | "yours" => Some((listener, "'s")),
            "we" => Some(("they", "")),
            "we're" => Some(("they are", "")),
            "us" => Some(("them", "")),
            "our" => Some(("their", "")),
            "am" if after_subject => Some(("is", "")),
            "have" if after_subject => Some(("has", "")),
            "don't" if after_subject => Some(("doesn't", "")),
            "do" if after_subject => Some(("does", "")),
            "are" if after_subject => Some(("is", "")),
            "aren't" if after_subject => Some(("isn't", "")),
            "were" if after_subject => Some(("was", "")),
            "weren't" if after_subject => Some(("wasn't", "")),
            _ => None,
        };
        // "I need" said by Ana becomes "Ana needs".
        let conjugated = if after_subject && replaced.is_none() {
            third_person_verb(core)
        } else {
            None
        };
        // After "can you" or "did I" the verb stays as it is: "can the agent help".
        after_subject = matches!(lowered.as_str(), "i" | "you")
            && tokens.peek().is_some()
            && !INVERTING.contains(&previous.as_str());
        previous.clone_from(&lowered);
        if !out.is_empty() {
            out.push(' ');
        }
        if let Some((word, _)) = replaced {
            speaker_said |= word == speaker && nameable(speaker);
            listener_said |= word == listener && nameable(listener);
        }
        match (replaced, conjugated) {
            (Some((word, tail)), _) => {
                out.push_str(prefix);
                out.push_str(word);
                out.push_str(tail);
                out.push_str(suffix);
            }
            (None, Some(verb)) => {
                out.push_str(prefix);
                out.push_str(&verb);
                out.push_str(suffix);
            }
            (None, None) => out.push_str(token),
        }
    }
    capitalized(&out)
}

/// Words after which a subject keeps its verb's base form: auxiliaries and modals of a
/// question ("can you help"), and verbs that take a bare infinitive ("let me see").
const INVERTING: [&str; 22] = [
    "do",
    "does",
    "did",
    "don't",
    "doesn't",
    "didn't",
    "can",
    "can't",
    "could",
    "couldn't",
    "would",
    "wouldn't",
    "will",
    "won't",
    "shall",
    "should",
    "shouldn't",
    "may",
    "might",
    "must",
    "let",
    "make",
];

/// `text` with its first letter in upper case.
fn capitalized(text: &str) -> String {
    match text.chars().next() {
        Some(first) if first.is_lowercase() => {
            first.to_uppercase().collect::<String>() + &text[first.len_utf8()..]
        }
        _ => text.to_string(),
    }
}

/// Common verbs in their base form, which take an -s after a third-person subject. Past
/// forms, modals and anything else are left as they are, and so are verbs whose past is
/// spelt like their base (reset, put, set): support talk mostly reports what was done.
const BASE_VERBS: [&str; 81] = [
    "need",
    "want",
    "think",
    "know",
    "like",
    "see",
    "feel",
    "hope",
    "get",
    "go",
    "work",
    "try",
    "use",
    "say",
    "mean",
    "guess",
    "remember",
    "understand",
    "agree",
    "prefer",
    "wonder",
    "love",
    "hate",
    "look",
    "come",
    "live",
    "plan",
    "expect",
    "believe",
    "suppose",
    "wish",
    "find",
    "make",
    "take",
    "give",
    "keep",
    "call",
    "check",
    "send",
    "buy",
    "pay",
    "forget",
    "miss",
    "own",
    "run",
    "start",
    "stop",
    "play",
    "help",
    "ask",
    "tell",
    "print",
    "restart",
    "install",
    "update",
    "open",
    "close",
    "save",
    "fix",
    "connect",
    "click",
    "type",
    "plug",
    "launch",
    "share",
    "join",
    "access",
    "download",
    "upload",
    "sync",
    "scan",
    "attach",
    "enter",
    "change",
    "move",
    "copy",
    "delete",
    "receive",
    "hear",
    "turn",
    "switch",
];

/// The third-person singular of a base-form verb of [`BASE_VERBS`] written in lower case.
fn third_person_verb(word: &str) -> Option<String> {
    if !BASE_VERBS.contains(&word) {
        return None;
    }
    let before_y = word.strip_suffix('y').and_then(|stem| stem.chars().last());
    Some(match before_y {
        Some(letter) if !"aeiou".contains(letter) => format!("{}ies", &word[..word.len() - 1]),
        _ if word.ends_with(['s', 'x', 'z', 'o'])
            || word.ends_with("sh")
            || word.ends_with("ch") =>
        {
            format!("{word}es")
        }
        _ => format!("{word}s"),
    })
}

/// Hedges and fillers a summary leaves out, each with the spaces around it.
const FILLERS: [&str; 12] = [
    " i think ",
    " i guess ",
    " i mean ",
    " you know ",
    " you know, ",
    " actually ",
    " really ",
    " just ",
    " very ",
    " i'm afraid ",
    " of course ",
    " kind of ",
];

/// `sentence` without hedges and fillers.
fn without_fillers(sentence: &str) -> String {
    let mut text = format!(" {sentence}");
    let mut lowered = lowercase_aligned(&text);
    for filler in FILLERS {
        if !lowered.contains(filler) {
            continue;
        }
        let mut result = String::with_capacity(text.len());
        let mut last = 0;
        for (start, _) in lowered.match_indices(filler) {
            if start >= last {
                result.push_str(&text[last..start]);
                result.push(' ');
                last = start + filler.len();
            }
        }
        result.push_str(&text[last..]);
        text = result;
        lowered = lowercase_aligned(&text);
    }
    text.trim().to_string()
}

/// Drops interjections and vocatives that open a sentence ("Oh, well, Tom, …").
fn strip_openers<'a>(sentence: &'a str, names: &[&str]) -> &'a str {
    let mut rest = sentence.trim();
    for greeting in ["good morning", "good afternoon", "good evening"] {
        let starts = rest
            .get(..greeting.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(greeting));
        if starts {
            // "Good morning Bob, …" / "Good morning, …"
            if let Some((_, tail)) = rest.split_once(',') {
                if tail.len() < rest.len()
                    && rest[..rest.len() - tail.len()].split_whitespace().count() <= 4
                {
                    rest = tail.trim_start();
                }
            }
        }
    }
    loop {
        let Some((first, tail)) = rest.split_once(' ') else {
            return rest;
        };
        let core = first.trim_matches(|c: char| !c.is_alphanumeric());
        let is_opener = OPENERS.contains(&core.to_lowercase().as_str()) || names.contains(&core);
        // "Hi, …" / "Hi can you …": an opener before a question's auxiliary needs no comma.
        let before_question = tail
            .split(' ')
            .next()
            .is_some_and(|next| INVERTING.contains(&next.to_lowercase().as_str()));
        if is_opener && (first.ends_with([',', '.', '!']) || before_question) {
            rest = tail.trim_start();
            continue;
        }
        // "Hello Bob, …": an opener and a name that ends the greeting.
        let named = tail.split_once(' ').filter(|(second, _)| {
            second.ends_with(',') && second.chars().next().is_some_and(char::is_uppercase)
        });
        match named {
            Some((_, after)) if is_opener => rest = after.trim_start(),
            _ => return rest,
        }
    }
}

/// Words before which a clause begins: a long title is cut there first.
const CLAUSE_STARTS: [&str; 9] = [
    " and ",
    " but ",
    " because ",
    " so ",
    " which ",
    " when ",
    " while ",
    " since ",
    " although ",
];

/// `text` as a title of at most [`TITLE_CHARS`] characters: whole, or cut at the last clause
/// boundary (a comma, a semicolon, or before a conjunction) in its second half, else at a word
/// boundary and then without the words that would dangle (a preposition, an article, a
/// conjunction, a possessive); never with closing punctuation.
fn shortened_title(text: &str) -> String {
    let text = text.trim();
    let closing: &[char] = &['.', ',', '!', '?', ';', ':', ' '];
    if text.chars().count() <= TITLE_CHARS {
        return text.trim_end_matches(closing).to_string();
    }
    let limit = text
        .char_indices()
        .nth(TITLE_CHARS)
        .map_or(text.len(), |(at, _)| at);
    let head = &text[..limit];
    let clause = head
        .rfind([',', ';'])
        .into_iter()
        .chain(CLAUSE_STARTS.iter().filter_map(|start| head.rfind(start)))
        .max()
        .filter(|at| *at >= limit / 2);
    let mut title = match clause {
        Some(at) => &head[..at],
        None => head.rfind(' ').map_or(head, |at| &head[..at]),
    }
    .trim_end_matches(closing);
    while ends_dangling(title) {
        match title.trim_end_matches(closing).rfind(' ') {
            Some(at) => title = title[..at].trim_end_matches(closing),
            None => break,
        }
    }
    title.to_string()
}

/// A sentence that may go into the narrative.
struct Candidate<'a> {
    turn: usize,
    sentence: usize,
    text: &'a str,
    score: f64,
}

/// The built-in engine: the summarizer with its issue-type classifier and applications
/// catalogue.
pub struct BuiltinEngine {
    pub classifier: crate::classify::IssueClassifier,
    pub applications: crate::applications::AppCatalogue,
}

impl Default for BuiltinEngine {
    /// The built-in IT taxonomy and applications catalogue.
    fn default() -> Self {
        BuiltinEngine::new(
            &crate::classify::Taxonomy::builtin(),
            crate::applications::AppCatalogue::builtin(),
        )
    }
}

impl BuiltinEngine {
    /// An engine with a company's taxonomy and catalogue.
    pub fn new(
        taxonomy: &crate::classify::Taxonomy,
        applications: crate::applications::AppCatalogue,
    ) -> Self {
        BuiltinEngine {
            classifier: crate::classify::IssueClassifier::new(taxonomy),
            applications,
        }
    }

    /// Summarises a session in English.
    pub fn summarize(&self, session: &Session) -> Summary {
        self.summarize_in(session, Language::English)
    }

    /// Summarises a session with its templates in `language`.
    pub fn summarize_in(&self, session: &Session, language: Language) -> Summary {
        let session = with_contractions_joined(session);
        summarize(&session, &self.classifier, &self.applications, language)
    }
}

/// Endings of English contractions, written after an apostrophe.
const CONTRACTION_TAILS: [&str; 7] = ["m", "s", "re", "ll", "ve", "d", "t"];

/// `text` with contractions that a tokenizer wrote apart put back together: "I ' m" and
/// "didn ' t" become "I'm" and "didn't"; `None` when there are none.
fn join_contractions(text: &str) -> Option<String> {
    if !text.contains(" ' ") && !text.contains(" '") {
        return None;
    }
    let mut joined = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find(" '") {
        let (before, after) = (&rest[..at], &rest[at + 2..]);
        let tail = after.trim_start_matches(' ');
        let word_len = tail
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(tail.len());
        let joins = before.ends_with(|c: char| c.is_alphanumeric() || c == '#')
            && CONTRACTION_TAILS.contains(&&tail[..word_len])
            && after.len() - tail.len() <= 1;
        joined.push_str(before);
        if joins {
            joined.push('\'');
            rest = tail;
            changed = true;
        } else {
            joined.push_str(" '");
            rest = after;
        }
    }
    joined.push_str(rest);
    changed.then_some(joined)
}

/// The session with its turns' broken contractions joined (a copy only when one has some).
fn with_contractions_joined(session: &Session) -> std::borrow::Cow<'_, Session> {
    let joined: Vec<Option<String>> = session
        .turns
        .iter()
        .map(|turn| join_contractions(&turn.text))
        .collect();
    if joined.iter().all(Option::is_none) {
        return std::borrow::Cow::Borrowed(session);
    }
    let mut copy = session.clone();
    for (turn, text) in copy.turns.iter_mut().zip(joined) {
        if let Some(text) = text {
            turn.text = text;
        }
    }
    std::borrow::Cow::Owned(copy)
}

fn summarize(
    session: &Session,
    classifier: &crate::classify::IssueClassifier,
    catalogue: &crate::applications::AppCatalogue,
    language: Language,
) -> Summary {
    let names = speaker_names(session);
    // Each turn's speaker, named as the summary names them.
    let turn_names: Vec<&str> = session
        .turns
        .iter()
        .map(|turn| {
            let label = turn
                .speaker_name
                .as_deref()
                .unwrap_or_else(|| default_name(turn.speaker));
            names.get(label).map_or(label, String::as_str)
        })
        .collect();
    // The participants in order of appearance: whom a speaker talks to is the first other one.
    let mut participants: Vec<&str> = Vec::new();
    for name in &turn_names {
        if !participants.contains(name) {
            participants.push(name);
        }
    }
    let listener_for = |speaker: &str, fallback: &'static str| -> &str {
        participants
            .iter()
            .find(|name| **name != speaker)
            .copied()
            .unwrap_or(fallback)
    };
    let name_refs: Vec<&str> = names.values().map(String::as_str).collect();

    let turn_sentences: Vec<Vec<&str>> = session
        .turns
        .iter()
        .map(|turn| sentences(&turn.text))
        .collect();

    // Word frequencies over the dialogue, for centrality.
    let lowered_turns: Vec<String> = session
        .turns
        .iter()
        .map(|turn| turn.text.to_lowercase())
        .collect();
    let mut frequency: HashMap<&str, f64> = HashMap::new();
    for lowered in &lowered_turns {
        for word in split_words(lowered).filter(|word| word.len() > 3) {
            *frequency.entry(word).or_insert(0.0) += 1.0;
        }
    }

    let mut candidates: Vec<Candidate> = Vec::new();
    let turn_count = session.turns.len().max(1) as f64;
    for (index, turn) in session.turns.iter().enumerate() {
        if turn.speaker == Speaker::System {
            continue;
        }
        for (sentence_index, sentence) in turn_sentences[index].iter().enumerate() {
            let sentence = strip_openers(sentence, &name_refs);
            let lowered = sentence.to_lowercase();
            if is_small_talk(&lowered) || sentence.ends_with('?') {
                continue;
            }
            let (mut words, mut weight) = (0usize, 0.0);
            for word in split_words(&lowered) {
                words += 1;
                if word.len() > 3 {
                    weight += frequency.get(word).copied().unwrap_or(0.0).min(3.0);
                }
            }
            let centrality = weight / (words as f64).sqrt();
            let position = 1.0 - index as f64 / turn_count;
            // Sentences of about a dozen words read like a summary's; long ones dilute it.
            let length = 1.0 - ((words as f64 - IDEAL_WORDS).abs() / IDEAL_WORDS).min(1.0);
            candidates.push(Candidate {
                turn: index,
                sentence: sentence_index,
                text: sentence,
                score: centrality * CENTRALITY_WEIGHT + position * POSITION_WEIGHT + length,
            });
        }
    }
    let mut ranked: Vec<&Candidate> = candidates.iter().collect();
    ranked.sort_by(|left, right| right.score.total_cmp(&left.score));
    // The best sentence, then the best of the other party: a summary tells both sides.
    let mut chosen: Vec<&Candidate> = ranked.iter().take(1).copied().collect();
    if let Some(first) = chosen.first().map(|candidate| turn_names[candidate.turn]) {
        if let Some(other) = ranked
            .iter()
            .find(|candidate| turn_names[candidate.turn] != first)
        {
            chosen.push(other);
        } else if let Some(second) = ranked.get(1) {
            chosen.push(second);
        }
    }
    // Two short sentences say too little: a third, the next best, fills the summary out.
    let chosen_words: usize = chosen
        .iter()
        .map(|candidate| candidate.text.split_whitespace().count())
        .sum();
    if chosen_words < SHORT_NARRATIVE_WORDS {
        let next = ranked
            .iter()
            .find(|candidate| {
                !chosen
                    .iter()
                    .any(|chosen| std::ptr::eq(*chosen, **candidate))
            })
            .copied();
        chosen.extend(next);
    }
    chosen.sort_by_key(|candidate| (candidate.turn, candidate.sentence));
    let narrative: Vec<String> = chosen
        .iter()
        .map(|candidate| {
            let speaker = turn_names[candidate.turn];
            let text = third_person(
                &without_fillers(candidate.text),
                speaker,
                listener_for(speaker, "the other party"),
            );
            let text = text.trim_end_matches(['.', '!']).to_string();
            format!("{text}.")
        })
        .collect();

    // Every sentence with the number of its turn.
    let all_sentences = || {
        turn_sentences
            .iter()
            .enumerate()
            .flat_map(|(index, texts)| texts.iter().map(move |text| (index, *text)))
    };
    let problem = all_sentences()
        .filter(|(index, _)| session.turns[*index].speaker == Speaker::Customer)
        .map(|(index, text)| (index, strip_openers(text, &name_refs)))
        .find(|(_, text)| !is_small_talk(&text.to_lowercase()))
        .map(|(index, text)| {
            let speaker = turn_names[index];
            third_person(text, speaker, listener_for(speaker, "the agent"))
        })
        .unwrap_or_default();

    let actions: Vec<String> = session
        .events
        .iter()
        .filter_map(|event| match event.kind.as_str() {
            "command" => event.text.as_ref().map(|text| language.ran_command(text)),
            "file_transfer" => event.name.as_ref().map(|name| language.transferred(name)),
            "setting_change" => event
                .setting
                .as_ref()
                .map(|setting| language.changed_setting(setting, event.value.as_deref())),
            "reboot" => Some(language.rebooted().to_string()),
            "note" => event.text.clone(),
            _ => None,
        })
        .collect();

    let has_customer = session
        .turns
        .iter()
        .any(|turn| turn.speaker == Speaker::Customer);
    let escalated = lowered_turns.iter().any(|lowered| {
        lowered.contains("escalat")
            || lowered.contains("hardware team")
            || lowered.contains("second level")
    }) || session.events.iter().any(|event| {
        event
            .text
            .as_deref()
            .is_some_and(|text| text.to_lowercase().contains("escalat"))
    });
    let outcome = if escalated {
        Outcome::Escalated
    } else if !has_customer {
        Outcome::Unknown
    } else if Judge::Builtin.judge_session(session).resolved {
        Outcome::Resolved
    } else {
        Outcome::Unresolved
    };
    // The last sentence that promises a follow-up, looked for in the turns that mention one.
    let promises_follow_up = |lowered: &str| FOLLOW_UP_CUES.iter().any(|cue| lowered.contains(cue));
    let follow_up = lowered_turns
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, lowered)| promises_follow_up(lowered))
        .find_map(|(index, _)| {
            turn_sentences[index]
                .iter()
                .rev()
                .find(|text| promises_follow_up(&lowercase_aligned(text)))
                .map(|text| (index, *text))
        })
        .map(|(index, text)| {
            let speaker = turn_names[index];
            third_person(text, speaker, listener_for(speaker, "the customer"))
        })
        .unwrap_or_default();

    // The customer's first turns state the problem; later ones mostly react.
    let customer_words: String = session
        .turns
        .iter()
        .filter(|turn| turn.speaker == Speaker::Customer)
        .take(PROBLEM_TURNS)
        .map(|turn| turn.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let problem_words: String = customer_words
        .split_whitespace()
        .take(PROBLEM_WORDS)
        .collect::<Vec<_>>()
        .join(" ");
    let issue_types = vec![classifier.classify(&problem_words)];
    let applications = catalogue.of_session(session);

    let title_source = if problem.is_empty() {
        narrative.first().cloned().unwrap_or_default()
    } else {
        problem.clone()
    };
    let mut title = shortened_title(&title_source);

    let mut summary = narrative;
    if summary.len() < NARRATIVE_SENTENCES && !follow_up.is_empty() && !summary.contains(&follow_up)
    {
        summary.push(follow_up.clone());
    }
    // Never empty: a transcript with no problem in it (empty, small talk, "ok") says so, with
    // what was done when the events tell.
    if title.is_empty() {
        title = match actions.first() {
            Some(action) => capitalized(action),
            None => language.untitled().to_string(),
        };
    }
    if summary.is_empty() {
        summary.push(language.nothing_described().to_string());
    }
    Summary {
        id: session.id.clone(),
        title,
        summary: summary.join(" "),
        problem,
        actions,
        outcome,
        follow_up,
        issue_types,
        applications,
        language: language.code().to_string(),
        outcome_label: language.outcome(outcome).to_string(),
        narrative_language: session
            .language
            .as_deref()
            .and_then(Language::from_code)
            .map_or_else(
                || session.language.clone().unwrap_or_else(|| "en".into()),
                |code| code.code().to_string(),
            ),
        engine: ENGINE.to_string(),
        fallback: None,
        redactions: std::collections::BTreeMap::new(),
        edited: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(turns: serde_json::Value) -> Session {
        Session::parse_json(&serde_json::json!({"id": "s", "turns": turns}).to_string())
            .expect("valid")
    }

    #[test]
    fn first_and_second_person_become_third_person_with_names() {
        assert_eq!(
            third_person(
                "I reset your VPN profile and I'm checking my notes",
                "Ana",
                "Bob"
            ),
            "Ana reset Bob's VPN profile and Ana is checking their notes"
        );
        assert_eq!(
            third_person("I have a problem", "Bob", "Ana"),
            "Bob has a problem"
        );
        assert_eq!(
            third_person(
                "I need to change my room and you are right, you try again",
                "Bob",
                "Ana"
            ),
            "Bob needs to change their room and Ana is right, Ana tries again"
        );
        assert_eq!(
            third_person("I lost my job but I go home and I fix it", "Bob", "Ana"),
            "Bob lost their job but Bob goes home and Bob fixes it"
        );
        // Speaker tags are repeated, as summaries written with them do; a question keeps its
        // verb.
        assert_eq!(
            third_person("I lost my job, can you help me", "#Person1#", "#Person2#"),
            "#Person1# lost #Person1#'s job, can #Person2# help #Person1#"
        );
    }

    #[test]
    fn fillers_are_left_out() {
        assert_eq!(
            without_fillers("I think I just really need a new password"),
            "I need a new password"
        );
        assert_eq!(without_fillers("Actually it works"), "it works");
    }

    #[test]
    fn greetings_are_left_out_and_vocatives_name_the_other_speaker() {
        let dialogue = session(serde_json::json!([
            {"speaker": "agent", "speaker_name": "#Person1#", "text": "Hi, Fanny. How are you?"},
            {"speaker": "customer", "speaker_name": "#Person2#", "text": "Hi, Andy. I did not sleep much last night because I had a bad dream."},
            {"speaker": "agent", "speaker_name": "#Person1#", "text": "Thank you."}
        ]));

        let summary = BuiltinEngine::default().summarize(&dialogue);

        assert!(
            summary
                .summary
                .contains("Fanny did not sleep much last night because Fanny had a bad dream"),
            "{}",
            summary.summary
        );
        assert!(!summary.summary.contains("How are you"));
        assert!(!summary.summary.contains("Hi,"));
    }

    #[test]
    fn events_become_actions_and_an_escalation_is_the_outcome() {
        let dialogue = Session::parse_json(
            &serde_json::json!({"id": "s", "turns": [
                {"speaker": "customer", "text": "My disk makes a clicking noise and the laptop freezes."},
                {"speaker": "agent", "text": "The disk is failing, I am sending the case to the hardware team."}
            ], "events": [
                {"at": "2026-11-20T10:00:00Z", "type": "command", "text": "wmic diskdrive get status"},
                {"at": "2026-11-20T10:01:00Z", "type": "reboot"},
                {"at": "2026-11-20T10:02:00Z", "type": "app_focus", "app": "CrystalDiskInfo.exe"}
            ]})
            .to_string(),
        )
        .expect("valid");

        let summary = BuiltinEngine::default().summarize(&dialogue);

        assert_eq!(summary.outcome, Outcome::Escalated);
        assert_eq!(
            summary.actions,
            vec![
                "ran the command wmic diskdrive get status",
                "rebooted the device"
            ]
        );
        assert_eq!(summary.applications, vec!["CrystalDiskInfo"]);
        assert_eq!(summary.issue_types, vec!["hardware"]);
        assert!(summary.title.chars().count() <= TITLE_CHARS);
        assert!(
            summary
                .problem
                .starts_with("The customer's disk makes a clicking noise"),
            "{}",
            summary.problem
        );
    }

    #[test]
    fn huge_sessions_are_summarized() {
        let many: Vec<serde_json::Value> = (0..10_000)
            .map(|index| {
                serde_json::json!({"speaker": if index % 2 == 0 { "customer" } else { "agent" },
                                   "text": format!("Turn number {index} says the printer is offline again.")})
            })
            .collect();
        let summary = BuiltinEngine::default().summarize(&session(serde_json::Value::Array(many)));
        assert!(!summary.summary.is_empty());

        let enormous = "the printer is offline ".repeat(50_000);
        let summary = BuiltinEngine::default().summarize(&session(
            serde_json::json!([{"speaker": "customer", "text": enormous}]),
        ));
        assert!(summary.title.chars().count() <= TITLE_CHARS);
    }

    proptest::proptest! {
        #[test]
        fn no_transcript_makes_the_summarizer_panic(
            turns in proptest::collection::vec(("\\PC{0,80}", 0u8..4, proptest::option::of("\\PC{0,12}")), 0..20),
        ) {
            let turns: Vec<serde_json::Value> = turns
                .into_iter()
                .map(|(text, speaker, name)| {
                    let speaker = ["customer", "agent", "ai_agent", "system"][speaker as usize];
                    serde_json::json!({"speaker": speaker, "speaker_name": name, "text": text})
                })
                .collect();
            let summary = BuiltinEngine::default().summarize(&session(serde_json::Value::Array(turns)));
            proptest::prop_assert!(summary.title.chars().count() <= TITLE_CHARS);
            proptest::prop_assert!(!summary.title.trim().is_empty());
            proptest::prop_assert_eq!(summary.validate(), Ok(()));
            proptest::prop_assert!(!summary.summary.trim().is_empty());
        }
    }

    #[test]
    fn templates_follow_the_language_and_the_narrative_keeps_the_transcripts() {
        let dialogue = Session::parse_json(
            &serde_json::json!({"id": "s", "language": "en", "turns": [
                {"speaker": "customer", "text": "The laptop freezes after the update."},
                {"speaker": "agent", "text": "I rolled the driver back and it works now."}
            ], "events": [{"at": "2026-11-20T10:01:00Z", "type": "reboot"}]})
            .to_string(),
        )
        .expect("valid");

        let summary = BuiltinEngine::default().summarize_in(&dialogue, Language::German);

        assert_eq!(summary.language, "de");
        assert_eq!(summary.narrative_language, "en");
        assert_eq!(summary.actions, vec!["startete das Gerät neu"]);
        assert_eq!(
            summary.outcome_label,
            Language::German.outcome(summary.outcome)
        );
    }

    #[test]
    fn a_session_without_a_problem_still_gets_a_title_and_a_summary() {
        let empty = BuiltinEngine::default().summarize(&session(serde_json::json!([])));
        let one_word = BuiltinEngine::default().summarize_in(
            &session(serde_json::json!([{"speaker": "agent", "text": "ok"}])),
            Language::German,
        );
        assert_eq!(
            (empty.title.as_str(), empty.summary.as_str(), empty.outcome),
            (
                "Support session without a described problem",
                "The transcript does not describe a problem.",
                Outcome::Unknown
            )
        );
        assert_eq!(one_word.title, "Supportsitzung ohne beschriebenes Problem");
        assert!(!one_word.summary.is_empty());
    }
}
