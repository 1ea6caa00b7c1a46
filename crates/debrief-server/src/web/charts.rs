//! Charts drawn on the server: what each SVG bar needs, computed here so the templates only
//! place rectangles.

use serde::Serialize;
use serde_json::Value;

/// Most bars one chart shows; the rest are summed into one "…" bar.
const MAX_BARS: usize = 10;

/// Most characters of a bar's label.
const LABEL_CHARS: usize = 24;

/// `text` cut to `chars` characters, with "…" when cut.
pub fn shorten(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// One bar of a horizontal bar chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    pub label: String,
    /// The label cut to fit beside the bar.
    pub short: String,
    pub value: i64,
    /// Length as a share of the longest bar, 0–100.
    pub percent: u32,
}

/// Bars for `(label, value)` pairs already ranked, longest first; past [`MAX_BARS`] the rest
/// is one bar labelled `others`.
pub fn bars(pairs: &[(String, i64)], others: &str) -> Vec<Bar> {
    let mut shown: Vec<(String, i64)> = pairs.iter().take(MAX_BARS).cloned().collect();
    let rest: i64 = pairs.iter().skip(MAX_BARS).map(|(_, value)| value).sum();
    if rest > 0 {
        shown.push((others.to_string(), rest));
    }
    let longest = shown
        .iter()
        .map(|(_, value)| *value)
        .max()
        .unwrap_or(0)
        .max(1);
    shown
        .into_iter()
        .map(|(label, value)| Bar {
            percent: u32::try_from(value.max(0) * 100 / longest).unwrap_or(100),
            short: shorten(&label, LABEL_CHARS),
            label,
            value,
        })
        .collect()
}

/// `(name, count)` pairs from an API list of objects such as `[{"issue_type": "x", "summaries": 3}]`.
pub fn pairs(items: &Value, name: &str, count: &str) -> Vec<(String, i64)> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            (
                item[name].as_str().unwrap_or_default().to_string(),
                item[count].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_longest_and_fold_the_tail() {
        let pairs: Vec<(String, i64)> = (0..12).map(|n| (format!("t{n}"), 20 - n)).collect();
        let bars = bars(&pairs, "others");
        assert_eq!(bars.len(), 11);
        assert_eq!((bars[0].percent, bars[1].percent), (100, 95));
        assert_eq!(bars[10].label, "others");
        assert_eq!((bars[10].value, bars[10].percent), (10 + 9, 95));
        assert!(super::bars(&[], "others").is_empty());
        assert_eq!(shorten("Microsoft Outlook", 10), "Microsoft…");
        assert_eq!(shorten("Outlook", 10), "Outlook");
    }
}
