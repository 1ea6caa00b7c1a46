//! What every judge answers — the built-in heuristic, the rule veto and an LLM.

/// A judge's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub resolved: bool,
    /// From 0 to 1.
    pub confidence: f64,
    /// One line saying why.
    pub rationale: String,
}
