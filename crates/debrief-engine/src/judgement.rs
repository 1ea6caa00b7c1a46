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

/// Who said a line of a dialogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Customer,
    Agent,
}

/// One line of a dialogue to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialogueLine<'a> {
    pub role: Role,
    pub text: &'a str,
}
