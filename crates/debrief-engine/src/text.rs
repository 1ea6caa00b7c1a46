//! Small text helpers shared by the engine's steps, with a fast path for ASCII text (most
//! support text is).

/// Writes `word` in lower case into `buffer`, replacing what it held.
pub(crate) fn lowercase_into(word: &str, buffer: &mut String) {
    buffer.clear();
    if word.is_ascii() {
        buffer.push_str(word);
        buffer.make_ascii_lowercase();
    } else {
        buffer.extend(word.chars().flat_map(char::to_lowercase));
    }
}

/// Whether `lower` is `word` in lower case.
pub(crate) fn is_lowercase_of(word: &str, lower: &str) -> bool {
    if word.is_ascii() {
        word.eq_ignore_ascii_case(lower)
    } else {
        word.chars().flat_map(char::to_lowercase).eq(lower.chars())
    }
}

/// `text` in lower case with every character at the same byte offset: a character whose
/// lower case has another length is kept as it is, so that positions found in the result
/// cut `text` at the same places.
pub(crate) fn lowercase_aligned(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    text.chars()
        .map(|character| {
            let mut lower = character.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(single), None) if single.len_utf8() == character.len_utf8() => single,
                _ => character,
            }
        })
        .collect()
}

/// Whether `name` is a transcript's speaker tag (`#Person1#`) rather than a person's name.
pub(crate) fn is_speaker_tag(name: &str) -> bool {
    name.len() > 2 && name.starts_with('#') && name.ends_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_other_text_are_lower_cased_alike() {
        let mut buffer = String::from("left over");
        lowercase_into("Outlook", &mut buffer);
        assert_eq!(buffer, "outlook");
        lowercase_into("ÉCRAN", &mut buffer);
        assert_eq!(buffer, "écran");
        assert!(is_lowercase_of("Outlook", "outlook"));
        assert!(is_lowercase_of("ÉCRAN", "écran"));
        assert!(!is_lowercase_of("Outlooks", "outlook"));
        // 'İ' is two bytes; its lower case is three: it stays, so offsets still agree.
        let aligned = lowercase_aligned("İ Think ÉCRAN");
        assert_eq!(aligned, "İ think écran");
        assert_eq!(aligned.len(), "İ Think ÉCRAN".len());
    }
}
