//! A real PDF in each language: its text, extracted by poppler's `pdftotext`, holds the
//! summary with its accents and the labels; it renders to PNG pages with `pdftoppm`, kept in
//! `target/tmp/pdf-export/` for review.
//! Ignored unless asked for (`-- --include-ignored`, as `scripts/test.sh` does, which installs
//! poppler-utils and a DejaVu font).

use std::process::Command;

use debrief_core::summary::{Outcome, Summary};
use debrief_engine::language::Language;
use debrief_export::{find_system_font, render, ExportFormat, ExportedSummary, Labels};

fn available(tool: &str) -> bool {
    Command::new(tool).arg("-v").output().is_ok()
}

#[test]
#[ignore = "needs poppler-utils and a TrueType font (scripts/setup.sh installs them)"]
fn pdfs_carry_accented_text_and_labels_in_every_language() {
    let font = find_system_font(None).expect("a system TrueType font (fonts-dejavu-core)");
    assert!(
        available("pdftotext") && available("pdftoppm"),
        "poppler-utils (pdftotext, pdftoppm) are needed"
    );
    // Kept under target/ for review: the PDFs and their pages as PNG.
    let directory = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pdf-export");
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("output directory");
    let summaries: Vec<ExportedSummary> = (0..40)
        .map(|index| ExportedSummary {
            summary: Summary {
                id: format!("tv-{index}"),
                title: format!("Configuração do VPN nº {index} — Größe, élève"),
                summary:
                    "João reiniciou o serviço e a conexão voltou; the user confirmed it works now."
                        .into(),
                problem: "A VPN caía a cada cinco minutos".into(),
                actions: vec!["executou o comando ipconfig /renew".into()],
                outcome: Outcome::Resolved,
                issue_types: vec!["network_vpn".into()],
                applications: vec!["Cisco AnyConnect".into()],
                language: "pt-BR".into(),
                engine: "builtin-1".into(),
                ..Summary::default()
            },
            supporter: Some("Ana Łukasiewicz".into()),
            started_at: Some("2026-11-30T14:05:09Z".parse().expect("time")),
            editor: None,
        })
        .collect();
    for language in Language::ALL {
        let bytes = render(&summaries, ExportFormat::Pdf, language, Some(&font)).expect("pdf");
        assert!(bytes.starts_with(b"%PDF-"));
        let path = directory.as_path().join(format!("{}.pdf", language.code()));
        std::fs::write(&path, &bytes).expect("write");
        let text = Command::new("pdftotext")
            .args([path.to_str().expect("path"), "-"])
            .output()
            .expect("pdftotext runs");
        let text = String::from_utf8_lossy(&text.stdout);
        let labels = Labels::of(language);
        assert!(
            text.contains("Configuração do VPN nº 39 — Größe, élève"),
            "{language:?}: {text}"
        );
        assert!(text.contains("João reiniciou o serviço"), "{language:?}");
        assert!(
            text.contains(&format!("{} Ana Łukasiewicz", labels.supporter))
                && text.contains(&format!("{} 2026-11-30 14:05 UTC", labels.started)),
            "{language:?}: the supporter and the start are named: {text}"
        );
        assert!(
            text.contains(labels.applications),
            "{language:?}: {}",
            labels.applications
        );
        assert!(text.contains(language.outcome(debrief_core::summary::Outcome::Resolved)));
        let pages = Command::new("pdftoppm")
            .args([
                "-png",
                "-r",
                "30",
                path.to_str().expect("path"),
                directory.join(language.code()).to_str().expect("path"),
            ])
            .status()
            .expect("pdftoppm runs");
        assert!(pages.success());
        let rendered = std::fs::read_dir(directory.as_path())
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|entry| {
                let name = entry.file_name().to_string_lossy().to_string();
                name.starts_with(&format!("{}-", language.code())) && name.ends_with(".png")
            })
            .count();
        assert!(
            rendered >= 2,
            "40 summaries take more than one page: {rendered}"
        );
        // Only the glyphs used are embedded: well under 100 KB a page.
        assert!(
            bytes.len() < 100_000 * rendered,
            "{language:?}: {} bytes for {rendered} pages",
            bytes.len()
        );
        let one = render(&summaries[..1], ExportFormat::Pdf, language, Some(&font)).expect("pdf");
        assert!(one.len() < 100_000, "one page is {} bytes", one.len());
    }
}
