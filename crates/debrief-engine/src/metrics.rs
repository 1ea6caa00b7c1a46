//! Quality metrics of `debrief eval`: binary precision, recall and F1; multi-class accuracy
//! and macro-F1 (the mean F1 over every label that is gold or predicted, as scikit-learn's
//! `f1_score(average="macro")`).

use std::collections::BTreeMap;

/// Counts of a binary classifier against gold labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BinaryCounts {
    pub true_positive: u64,
    pub false_positive: u64,
    pub false_negative: u64,
    pub true_negative: u64,
}

impl BinaryCounts {
    /// How many predictions were counted.
    pub fn total(&self) -> u64 {
        self.true_positive + self.false_positive + self.false_negative + self.true_negative
    }

    /// Adds one prediction.
    pub fn add(&mut self, predicted: bool, gold: bool) {
        match (predicted, gold) {
            (true, true) => self.true_positive += 1,
            (true, false) => self.false_positive += 1,
            (false, true) => self.false_negative += 1,
            (false, false) => self.true_negative += 1,
        }
    }

    /// Share of positive predictions that are right (0 without any).
    pub fn precision(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_positive)
    }

    /// Share of gold positives found (0 without any).
    pub fn recall(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_negative)
    }

    /// Harmonic mean of precision and recall (0 when both are 0).
    pub fn f1(&self) -> f64 {
        let (precision, recall) = (self.precision(), self.recall());
        if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        }
    }
}

/// Counts of a multi-class classifier against gold labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MulticlassCounts {
    per_label: BTreeMap<String, BinaryCounts>,
    correct: u64,
    total: u64,
}

impl MulticlassCounts {
    /// Adds one prediction.
    pub fn add(&mut self, predicted: &str, gold: &str) {
        self.total += 1;
        if predicted == gold {
            self.correct += 1;
            self.per_label
                .entry(gold.to_string())
                .or_default()
                .true_positive += 1;
        } else {
            self.per_label
                .entry(predicted.to_string())
                .or_default()
                .false_positive += 1;
            self.per_label
                .entry(gold.to_string())
                .or_default()
                .false_negative += 1;
        }
    }

    /// Share of right predictions.
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct, self.total)
    }

    /// Mean F1 over the labels seen as gold or predicted.
    pub fn macro_f1(&self) -> f64 {
        if self.per_label.is_empty() {
            return 0.0;
        }
        self.per_label.values().map(BinaryCounts::f1).sum::<f64>() / self.per_label.len() as f64
    }

    /// How many predictions were counted.
    pub fn total(&self) -> u64 {
        self.total
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_recall_and_f1_follow_their_definitions() {
        let mut counts = BinaryCounts::default();
        for (predicted, gold) in [
            (true, true),
            (true, false),
            (false, true),
            (true, true),
            (false, false),
        ] {
            counts.add(predicted, gold);
        }
        assert!((counts.precision() - 2.0 / 3.0).abs() < 1e-12);
        assert!((counts.recall() - 2.0 / 3.0).abs() < 1e-12);
        assert!((counts.f1() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(BinaryCounts::default().f1(), 0.0);
    }

    #[test]
    fn macro_f1_averages_over_gold_and_predicted_labels() {
        let mut counts = MulticlassCounts::default();
        for (predicted, gold) in [("a", "a"), ("a", "b"), ("b", "b"), ("c", "b")] {
            counts.add(predicted, gold);
        }
        // a: P 1/2 R 1 F1 2/3; b: P 1 R 1/3 F1 1/2; c: F1 0.
        assert!((counts.macro_f1() - (2.0 / 3.0 + 0.5) / 3.0).abs() < 1e-12);
        assert!((counts.accuracy() - 0.5).abs() < 1e-12);
    }
}
