//! Quality metrics of `debrief eval`: binary precision, recall and F1.

/// Counts of a binary classifier against gold labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BinaryCounts {
    pub true_positive: u64,
    pub false_positive: u64,
    pub false_negative: u64,
    pub true_negative: u64,
}

impl BinaryCounts {
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
}
