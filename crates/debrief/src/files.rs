//! Input and output files of the commands, where `-` means standard input or output.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use anyhow::Context;

/// Opens `path` for reading, `-` meaning standard input.
pub fn open_input(path: &Path) -> anyhow::Result<Box<dyn Read>> {
    Ok(if path == Path::new("-") {
        Box::new(std::io::stdin())
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot open {}", path.display()))?)
    })
}

/// Creates `path` for writing, `-` meaning standard output.
pub fn create_output(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    Ok(if path == Path::new("-") {
        Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout()))
    } else {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        Box::new(BufWriter::with_capacity(1 << 20, file))
    })
}
