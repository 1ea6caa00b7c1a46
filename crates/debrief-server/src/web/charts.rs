//! Charts drawn on the server as HTML bars (text at the page's size, never scaled with the
//! chart): what each bar needs — its label, length, and the link that filters the list by it —
//! computed here so the templates only place them.

use serde::Serialize;
use serde_json::Value;

/// Most bars one chart shows; the rest are summed into one "Other" bar.
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
    /// What the bar counts, as a person reads it.
    pub label: String,
    /// The label cut to fit beside the bar.
    pub short: String,
    pub value: i64,
    /// Length as a share of the longest named bar, 0–100 (the "Other" bar is capped at 100).
    pub percent: u32,
    /// The sum of the bars past [`MAX_BARS`].
    pub other: bool,
    /// The list filtered by this bar's value; `None` for "Other".
    pub href: Option<String>,
}

/// Bars for `(key, value)` pairs already ranked, longest first, labelled by `label_of` and
/// linked by `href_of`; past [`MAX_BARS`] the rest is one bar labelled `others`, which never
/// sets the scale: the longest named bar does.
pub fn bars(
    pairs: &[(String, i64)],
    others: &str,
    label_of: impl Fn(&str) -> String,
    href_of: impl Fn(&str) -> String,
) -> Vec<Bar> {
    let shown = &pairs[..pairs.len().min(MAX_BARS)];
    let rest: i64 = pairs.iter().skip(MAX_BARS).map(|(_, value)| value).sum();
    let longest = shown
        .iter()
        .map(|(_, value)| *value)
        .max()
        .unwrap_or(rest)
        .max(1);
    let percent =
        |value: i64| u32::try_from((value.max(0) * 100 / longest).min(100)).unwrap_or(100);
    let mut bars: Vec<Bar> = shown
        .iter()
        .map(|(key, value)| {
            let label = label_of(key);
            Bar {
                short: shorten(&label, LABEL_CHARS),
                label,
                value: *value,
                percent: percent(*value),
                other: false,
                href: Some(href_of(key)),
            }
        })
        .collect();
    if rest > 0 {
        bars.push(Bar {
            label: others.to_string(),
            short: shorten(others, LABEL_CHARS),
            value: rest,
            percent: percent(rest),
            other: true,
            href: None,
        });
    }
    bars
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
    fn bars_scale_to_the_longest_named_one_and_fold_the_tail() {
        let pairs: Vec<(String, i64)> = (0..30).map(|n| (format!("t{n}"), 40 - n)).collect();
        let bars = bars(
            &pairs,
            "Other",
            |key| key.to_uppercase(),
            |key| format!("?k={key}"),
        );
        assert_eq!(bars.len(), 11);
        assert_eq!((bars[0].percent, bars[1].percent), (100, 97));
        assert_eq!(
            (bars[0].label.as_str(), bars[0].href.as_deref()),
            ("T0", Some("?k=t0"))
        );
        let other = &bars[10];
        assert!(other.other && other.href.is_none());
        assert_eq!(other.value, (10..30).map(|n| 40 - n).sum::<i64>());
        assert_eq!(other.percent, 100, "the long tail is capped, not the scale");
        assert!(super::bars(&[], "Other", str::to_string, str::to_string).is_empty());
        assert_eq!(shorten("Microsoft Outlook", 10), "Microsoft…");
        assert_eq!(shorten("Outlook", 10), "Outlook");
    }
}
