//! ROUGE-1, ROUGE-2 and ROUGE-L F1 as the reference implementation (Google's `rouge-score`)
//! computes them: lower-case alphanumeric tokens, words over three letters stemmed, n-gram
//! and longest-common-subsequence overlap, F1; with several references the best one counts.
//! The stemmer is Snowball English (Porter2) where the reference uses Porter: the figures
//! agree to within a few hundredths of a point on DialogSum (see BENCHMARKS.md).

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

/// ROUGE F1 scores, from 0 to 1.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RougeScores {
    pub rouge1: f64,
    pub rouge2: f64,
    pub rouge_l: f64,
}

/// Scores candidates against references.
pub struct Rouge {
    stemmer: Stemmer,
}

impl Default for Rouge {
    fn default() -> Self {
        Rouge {
            stemmer: Stemmer::create(Algorithm::English),
        }
    }
}

fn f1(overlap: usize, candidate: usize, reference: usize) -> f64 {
    if overlap == 0 || candidate == 0 || reference == 0 {
        return 0.0;
    }
    let precision = overlap as f64 / candidate as f64;
    let recall = overlap as f64 / reference as f64;
    2.0 * precision * recall / (precision + recall)
}

fn ngram_overlap(candidate: &[String], reference: &[String], n: usize) -> f64 {
    if candidate.len() < n || reference.len() < n {
        return 0.0;
    }
    let mut counts: HashMap<&[String], usize> = HashMap::new();
    for gram in reference.windows(n) {
        *counts.entry(gram).or_insert(0) += 1;
    }
    let mut overlap = 0;
    for gram in candidate.windows(n) {
        if let Some(count) = counts.get_mut(gram) {
            if *count > 0 {
                *count -= 1;
                overlap += 1;
            }
        }
    }
    f1(overlap, candidate.len() - n + 1, reference.len() - n + 1)
}

fn lcs_length(left: &[String], right: &[String]) -> usize {
    let mut previous = vec![0usize; right.len() + 1];
    let mut current = vec![0usize; right.len() + 1];
    for item in left {
        for (index, other) in right.iter().enumerate() {
            current[index + 1] = if item == other {
                previous[index] + 1
            } else {
                current[index].max(previous[index + 1])
            };
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[right.len()]
}

impl Rouge {
    /// The reference tokenization.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        text.to_lowercase()
            .split(|character: char| {
                !(character.is_ascii_lowercase() || character.is_ascii_digit())
            })
            .filter(|token| !token.is_empty())
            .map(|token| {
                if token.len() > 3 {
                    self.stemmer.stem(token).into_owned()
                } else {
                    token.to_string()
                }
            })
            .collect()
    }

    /// The scores of `candidate` against one reference.
    pub fn score(&self, reference: &str, candidate: &str) -> RougeScores {
        let reference = self.tokens(reference);
        let candidate = self.tokens(candidate);
        RougeScores {
            rouge1: ngram_overlap(&candidate, &reference, 1),
            rouge2: ngram_overlap(&candidate, &reference, 2),
            rouge_l: f1(
                lcs_length(&candidate, &reference),
                candidate.len(),
                reference.len(),
            ),
        }
    }

    /// Each score's best over the references.
    pub fn best(&self, references: &[String], candidate: &str) -> RougeScores {
        references
            .iter()
            .map(|reference| self.score(reference, candidate))
            .fold(RougeScores::default(), |best, scores| RougeScores {
                rouge1: best.rouge1.max(scores.rouge1),
                rouge2: best.rouge2.max(scores.rouge2),
                rouge_l: best.rouge_l.max(scores.rouge_l),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_texts_score_one_and_disjoint_ones_zero() {
        let rouge = Rouge::default();
        let same = rouge.score("Ana reset the VPN profile.", "ana reset the vpn profile");
        assert_eq!((same.rouge1, same.rouge2, same.rouge_l), (1.0, 1.0, 1.0));
        let none = rouge.score("printer offline", "coffee break");
        assert_eq!((none.rouge1, none.rouge2, none.rouge_l), (0.0, 0.0, 0.0));
    }

    #[test]
    fn partial_overlap_follows_the_definitions() {
        let rouge = Rouge::default();
        // Reference: the cat sat on the mat (6); candidate: the cat on the mat (5).
        let scores = rouge.score("the cat sat on the mat", "the cat on the mat");
        assert!((scores.rouge1 - 2.0 * 5.0 / 11.0).abs() < 1e-9);
        // Bigrams: ref {the cat, cat sat, sat on, on the, the mat}, cand {the cat, cat on, on the, the mat}: 3 shared.
        assert!((scores.rouge2 - f1(3, 4, 5)).abs() < 1e-9);
        assert!((scores.rouge_l - f1(5, 5, 6)).abs() < 1e-9);
    }

    #[test]
    fn words_over_three_letters_are_stemmed() {
        let rouge = Rouge::default();
        assert_eq!(rouge.tokens("Printers printing"), vec!["printer", "print"]);
        assert_eq!(rouge.tokens("was"), vec!["was"]);
    }
}
