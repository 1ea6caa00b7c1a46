//! Every label and heading of an export, in the five summary languages.

use debrief_engine::language::Language;
use serde::Serialize;

/// The words an export prints around the summaries.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Labels {
    pub document_title: &'static str,
    pub session: &'static str,
    pub supporter: &'static str,
    pub started: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub problem: &'static str,
    pub actions: &'static str,
    pub outcome: &'static str,
    pub follow_up: &'static str,
    pub issue_types: &'static str,
    pub applications: &'static str,
    pub language: &'static str,
    pub engine: &'static str,
    pub edited: &'static str,
    pub none: &'static str,
    /// The plural of a summary, after a count.
    pub count: &'static str,
    /// The singular, after 1 (and after 0 in French).
    pub count_one: &'static str,
    /// The note left in a ticket when its session's summary is deleted; `{session}` is the
    /// session's id.
    pub deleted_note: &'static str,
}

impl Labels {
    /// "`n` summaries" with the noun in the number it takes in this language.
    pub fn count_text(&self, n: usize, language: Language) -> String {
        let singular = n == 1 || (n == 0 && language == Language::French);
        format!("{n} {}", if singular { self.count_one } else { self.count })
    }

    /// The labels of `language`.
    pub fn of(language: Language) -> Labels {
        match language {
            Language::English => Labels {
                document_title: "Session summaries",
                session: "Session",
                supporter: "Supporter",
                started: "Started",
                title: "Title",
                summary: "Summary",
                problem: "Problem",
                actions: "Actions taken",
                outcome: "Outcome",
                follow_up: "Follow-up",
                issue_types: "Issue types",
                applications: "Applications involved",
                language: "Language",
                engine: "Written by",
                edited: "Edited",
                none: "none",
                count: "summaries",
                count_one: "summary",
                deleted_note: "The Debrief summary of session {session} was deleted.",
            },
            Language::BrazilianPortuguese => Labels {
                document_title: "Resumos de sessões",
                session: "Sessão",
                supporter: "Técnico",
                started: "Início",
                title: "Título",
                summary: "Resumo",
                problem: "Problema",
                actions: "Ações realizadas",
                outcome: "Resultado",
                follow_up: "Acompanhamento",
                issue_types: "Tipos de problema",
                applications: "Aplicativos envolvidos",
                language: "Idioma",
                engine: "Escrito por",
                edited: "Editado",
                none: "nenhum",
                count: "resumos",
                count_one: "resumo",
                deleted_note: "O resumo do Debrief da sessão {session} foi excluído.",
            },
            Language::Spanish => Labels {
                document_title: "Resúmenes de sesiones",
                session: "Sesión",
                supporter: "Técnico",
                started: "Inicio",
                title: "Título",
                summary: "Resumen",
                problem: "Problema",
                actions: "Acciones realizadas",
                outcome: "Resultado",
                follow_up: "Seguimiento",
                issue_types: "Tipos de incidencia",
                applications: "Aplicaciones implicadas",
                language: "Idioma",
                engine: "Escrito por",
                edited: "Editado",
                none: "ninguno",
                count: "resúmenes",
                count_one: "resumen",
                deleted_note: "El resumen de Debrief de la sesión {session} fue eliminado.",
            },
            Language::German => Labels {
                document_title: "Sitzungszusammenfassungen",
                session: "Sitzung",
                supporter: "Supporter",
                started: "Beginn",
                title: "Titel",
                summary: "Zusammenfassung",
                problem: "Problem",
                actions: "Durchgeführte Schritte",
                outcome: "Ergebnis",
                follow_up: "Nächste Schritte",
                issue_types: "Problemarten",
                applications: "Beteiligte Anwendungen",
                language: "Sprache",
                engine: "Verfasst von",
                edited: "Bearbeitet",
                none: "keine",
                count: "Zusammenfassungen",
                count_one: "Zusammenfassung",
                deleted_note: "Die Debrief-Zusammenfassung der Sitzung {session} wurde gelöscht.",
            },
            Language::French => Labels {
                document_title: "Résumés de sessions",
                session: "Session",
                supporter: "Technicien",
                started: "Début",
                title: "Titre",
                summary: "Résumé",
                problem: "Problème",
                actions: "Actions menées",
                outcome: "Résultat",
                follow_up: "Suivi",
                issue_types: "Types de problème",
                applications: "Applications concernées",
                language: "Langue",
                engine: "Rédigé par",
                edited: "Modifié",
                none: "aucun",
                count: "résumés",
                count_one: "résumé",
                deleted_note: "Le résumé Debrief de la session {session} a été supprimé.",
            },
        }
    }
}
