//! The layout ARCHITECTURE.md promises, checked on the source of every crate: no module imports
//! one that imports it back, directly or through others, and no source file holds more than
//! 1,000 lines before its tests. A crate's root (`lib.rs`, `main.rs`) is its facade and not a
//! module here; a module's own `mod.rs` is, and what a module takes from the modules it lives
//! in (`use super::{Visitor, WebError}` in `web/insights.rs`) is not an import across modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Most lines of a source file before its `#[cfg(test)]` part.
const MAX_LINES_BEFORE_TESTS: usize = 1_000;

/// One source file: its module path (`billing::plan`) and its code without its tests.
struct SourceFile {
    module: Vec<String>,
    code: String,
}

fn crates_directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/")
        .to_path_buf()
}

fn rust_files(directory: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(directory).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

/// The files of one crate's `src/` with their module paths; `src/bin/` holds other crates'
/// roots and is left out.
fn sources(crate_directory: &Path) -> Vec<SourceFile> {
    let source = crate_directory.join("src");
    let mut paths = Vec::new();
    rust_files(&source, &mut paths);
    paths
        .into_iter()
        .filter(|path| !path.starts_with(source.join("bin")))
        .map(|path| {
            let relative = path.strip_prefix(&source).expect("inside src");
            let mut module: Vec<String> = relative
                .with_extension("")
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).expect("readable source");
            let code = text
                .split("\n#[cfg(test)]")
                .next()
                .unwrap_or_default()
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            SourceFile { module, code }
        })
        .collect()
}

/// The paths `code` names after `crate::`, `super::`, `self::` or one of its own submodules'
/// names, as absolute module paths (`use crate::{a, b::c}` names `a` and `b::c`).
fn named_paths(file: &SourceFile) -> Vec<Vec<String>> {
    let parent = file.module[..file.module.len().saturating_sub(1)].to_vec();
    let mut prefixes = vec![
        ("crate::".to_string(), Vec::new()),
        ("super::".to_string(), parent),
        ("self::".to_string(), file.module.clone()),
    ];
    // `mod plan;` then `plan::Plan`: the module names its child.
    for line in file.code.lines() {
        let declared = line
            .trim()
            .trim_start_matches("pub ")
            .trim_start_matches("pub(crate) ")
            .strip_prefix("mod ")
            .and_then(|rest| rest.strip_suffix(';'));
        if let Some(child) = declared {
            let mut path = file.module.clone();
            path.push(child.to_string());
            prefixes.push((format!("{child}::"), path));
        }
    }
    let mut named = Vec::new();
    for (prefix, base) in prefixes {
        let mut rest = file.code.as_str();
        while let Some(at) = rest.find(&prefix) {
            let preceded_by_word = rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            rest = &rest[at + prefix.len()..];
            if preceded_by_word {
                continue;
            }
            let items: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                group[..end].split(',').collect()
            } else {
                vec![rest]
            };
            for item in items {
                let mut path = base.clone();
                path.extend(
                    item.trim()
                        .split("::")
                        .map(|segment| {
                            segment
                                .chars()
                                .take_while(|c| c.is_alphanumeric() || *c == '_')
                                .collect::<String>()
                        })
                        .take_while(|segment| !segment.is_empty()),
                );
                named.push(path);
            }
        }
    }
    named
}

/// Every cycle of module imports in the crate at `crate_directory`, each as its modules.
fn import_cycles(crate_directory: &Path) -> Vec<Vec<String>> {
    let files = sources(crate_directory);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|file| file.module.clone()).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in files.iter().filter(|file| !file.module.is_empty()) {
        for mut path in named_paths(file) {
            while !path.is_empty() && !modules.contains(&path) {
                path.pop();
            }
            // A module's use of its ancestors (the shared items of the module it lives in) is
            // not an import across modules.
            let ancestor = file.module.starts_with(&path);
            if !path.is_empty() && !ancestor {
                edges.entry(file.module.clone()).or_default().insert(path);
            }
        }
    }
    // A module is in a cycle when it reaches itself again.
    let mut cycles: Vec<Vec<String>> = Vec::new();
    for start in edges.keys() {
        let mut stack = vec![(start.clone(), vec![start.join("::")])];
        let mut seen = BTreeSet::new();
        while let Some((module, trail)) = stack.pop() {
            for next in edges.get(&module).into_iter().flatten() {
                if next == start {
                    let mut cycle = trail.clone();
                    cycle.push(start.join("::"));
                    cycles.push(cycle);
                } else if seen.insert(next.clone()) {
                    let mut longer = trail.clone();
                    longer.push(next.join("::"));
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    cycles
}

fn crate_directories() -> Vec<PathBuf> {
    let mut directories: Vec<PathBuf> = std::fs::read_dir(crates_directory())
        .expect("crates/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.join("src").is_dir())
        .collect();
    directories.sort();
    directories
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let directories = crate_directories();
    assert!(directories.len() >= 8, "{directories:?}");
    let mut found = Vec::new();
    for directory in directories {
        for cycle in import_cycles(&directory) {
            found.push(format!("{}: {}", directory.display(), cycle.join(" → ")));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_check_sees_a_cycle() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let source = directory.path().join("src");
    std::fs::create_dir_all(source.join("billing")).expect("directories");
    std::fs::write(
        source.join("lib.rs"),
        "pub mod billing;\npub mod credits;\n",
    )
    .expect("lib");
    std::fs::write(
        source.join("billing/mod.rs"),
        "mod plan;\npub use plan::Plan;\n",
    )
    .expect("billing");
    std::fs::write(
        source.join("billing/plan.rs"),
        "use crate::credits::{grant, Grant};\npub struct Plan;\n",
    )
    .expect("plan");
    std::fs::write(
        source.join("credits.rs"),
        "// crate::billing in a comment is not an import\n\
         pub fn grant() -> super::billing::plan::Plan { todo!() }\n\
         #[cfg(test)]\nmod tests { use crate::billing; }\n",
    )
    .expect("credits");
    let cycles = import_cycles(directory.path());
    assert!(
        cycles.contains(&vec![
            "billing::plan".to_string(),
            "credits".to_string(),
            "billing::plan".to_string()
        ]),
        "{cycles:?}"
    );
    std::fs::write(source.join("credits.rs"), "pub fn grant() {}\n").expect("credits");
    assert!(import_cycles(directory.path()).is_empty());
}

#[test]
fn no_source_file_is_over_a_thousand_lines_before_its_tests() {
    let mut long = Vec::new();
    for directory in crate_directories() {
        let mut paths = Vec::new();
        rust_files(&directory.join("src"), &mut paths);
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("readable source");
            let lines = text
                .lines()
                .take_while(|line| *line != "#[cfg(test)]")
                .count();
            if lines > MAX_LINES_BEFORE_TESTS {
                long.push(format!("{}: {lines} lines", path.display()));
            }
        }
    }
    assert!(long.is_empty(), "{}", long.join("\n"));
}
