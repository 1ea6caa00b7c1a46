//! The PDF export: A4 pages, the system font embedded (so accents render), headings and
//! fields wrapped to the page width, a new page when one is full.

use debrief_engine::language::Language;
use printpdf::{
    IndirectFontRef, Mm, PdfDocument, PdfDocumentReference, PdfLayerIndex, PdfPageIndex,
};

use crate::{shown, ExportError, ExportedSummary, Labels};

const PAGE_WIDTH: f32 = 210.0;
const PAGE_HEIGHT: f32 = 297.0;
const MARGIN: f32 = 20.0;

/// Text sizes in points, with the characters that fit on a line at that size.
const HEADING: (f32, usize) = (15.0, 52);
const BODY: (f32, usize) = (10.5, 82);

/// Millimetres a line of `size` points takes.
fn line_height(size: f32) -> f32 {
    size * 0.3528 * 1.45
}

/// `text` cut into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Writes lines top to bottom, opening pages as needed.
struct Writer {
    document: PdfDocumentReference,
    font: IndirectFontRef,
    page: PdfPageIndex,
    layer: PdfLayerIndex,
    y: f32,
}

impl Writer {
    fn line(&mut self, text: &str, (size, _): (f32, usize)) {
        let height = line_height(size);
        if self.y - height < MARGIN {
            let (page, layer) = self
                .document
                .add_page(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), "page");
            self.page = page;
            self.layer = layer;
            self.y = PAGE_HEIGHT - MARGIN;
        }
        self.y -= height;
        self.document
            .get_page(self.page)
            .get_layer(self.layer)
            .use_text(text, size, Mm(MARGIN), Mm(self.y), &self.font);
    }

    fn paragraph(&mut self, text: &str, style: (f32, usize)) {
        for line in wrap(text, style.1) {
            self.line(&line, style);
        }
    }

    fn field(&mut self, label: &str, value: &str) {
        self.paragraph(&format!("{label}: {value}"), BODY);
    }

    fn gap(&mut self) {
        self.y -= line_height(BODY.0) / 2.0;
    }
}

/// The PDF of `summaries`.
pub fn render(
    summaries: &[ExportedSummary],
    language: Language,
    labels: &Labels,
    font: &[u8],
) -> Result<Vec<u8>, ExportError> {
    let (document, page, layer) = PdfDocument::new(
        labels.document_title,
        Mm(PAGE_WIDTH),
        Mm(PAGE_HEIGHT),
        "page",
    );
    let font = document
        .add_external_font(std::io::Cursor::new(font))
        .map_err(|error| ExportError::NoFont(format!("the font cannot be read: {error}")))?;
    let mut writer = Writer {
        document,
        font,
        page,
        layer,
        y: PAGE_HEIGHT - MARGIN,
    };
    writer.paragraph(labels.document_title, HEADING);
    writer.paragraph(&labels.count_text(summaries.len(), language), BODY);
    let or_none = |text: &str| {
        if text.trim().is_empty() {
            labels.none.to_string()
        } else {
            text.to_string()
        }
    };
    for summary in summaries {
        let shown = shown(summary, language);
        let summary = &shown;
        writer.gap();
        writer.gap();
        writer.paragraph(summary.title, HEADING);
        writer.paragraph(&shown.meta, BODY);
        writer.gap();
        writer.field(labels.summary, &or_none(summary.summary));
        writer.field(labels.problem, &or_none(summary.problem));
        if summary.actions.is_empty() {
            writer.field(labels.actions, labels.none);
        } else {
            writer.paragraph(&format!("{}:", labels.actions), BODY);
            for action in summary.actions {
                writer.paragraph(&format!("  • {action}"), BODY);
            }
        }
        writer.field(labels.outcome, shown.outcome_label);
        writer.field(labels.follow_up, &or_none(summary.follow_up));
        writer.field(
            labels.issue_types,
            &or_none(&summary.issue_types.join(", ")),
        );
        writer.field(
            labels.applications,
            &or_none(&summary.applications.join(", ")),
        );
    }
    writer
        .document
        .save_to_bytes()
        .map_err(|error| ExportError::Render(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_at_spaces_within_the_width() {
        let lines = wrap("one two three four five six", 9);
        assert_eq!(lines, vec!["one two", "three", "four five", "six"]);
        assert!(wrap("", 10).is_empty());
    }
}
