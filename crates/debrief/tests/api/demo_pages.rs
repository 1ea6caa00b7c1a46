//! Every page of `debrief serve --demo` as its admin meets it, in English and Brazilian
//! Portuguese, at 1280 and 390 px, in headless Chromium (skipped, saying so, without the
//! browser; `scripts/setup.sh` installs it). Each page must render its heading (no error page),
//! hold no JSON text box or raw JSON, speak the chosen language, fit the phone width, and leave
//! the header's language menu and Sign out uncovered. The screenshots are saved under
//! `target/web-screenshots/pages/` (those in `docs/screenshots/` are copies of them).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use crate::web::{browser, start_driver, wait_for};
use debrief_store::testing::TestDatabase;

/// `debrief serve --demo` on a free port with a fresh SQLite database.
pub(crate) struct DemoServer {
    pub(crate) child: KillOnDrop,
    pub(crate) url: String,
    /// The admin API token the banner shows once.
    pub(crate) token: String,
    admin_email: String,
    admin_password: String,
    _directory: tempfile::TempDir,
    pub(crate) database: TestDatabase,
}

impl DemoServer {
    /// Starts the demo and reads its banner.
    pub(crate) async fn start() -> DemoServer {
        let directory = tempfile::tempdir().expect("tempdir");
        let database = TestDatabase::sqlite();
        let mut child = KillOnDrop(
            Command::new(env!("CARGO_BIN_EXE_debrief"))
                .args([
                    "serve",
                    "--demo",
                    "--listen",
                    "127.0.0.1:0",
                    "--db",
                    &database.url,
                ])
                .current_dir(directory.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("server starts"),
        );
        let stdout = child.stdout.take().expect("stdout");
        // The banner: the address, the company, the token (two lines), where to sign in, then
        // one line per demo user ("  admin: EMAIL / PASSWORD").
        let banner = tokio::task::spawn_blocking(move || {
            std::io::BufReader::new(stdout)
                .lines()
                .take(6)
                .map(|line| line.unwrap_or_default())
                .collect::<Vec<_>>()
        })
        .await
        .expect("read banner");
        let url = banner[0]
            .trim_start_matches("Debrief is running at ")
            .trim_end_matches('/')
            .to_string();
        let (admin_email, admin_password) = banner[5]
            .trim()
            .trim_start_matches("admin: ")
            .split_once(" / ")
            .map(|(email, password)| (email.to_string(), password.to_string()))
            .unwrap_or_else(|| panic!("the admin's sign-in in the banner: {banner:?}"));
        DemoServer {
            child,
            url,
            token: banner[3].clone(),
            admin_email,
            admin_password,
            _directory: directory,
            database,
        }
    }

    async fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.database.remove().await;
    }
}

/// A child process killed when it is dropped, so that a failing test leaves no server running.
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for KillOnDrop {
    type Target = Child;

    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// Where this test's screenshots go.
fn screenshot_dir(language: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/web-screenshots/pages")
        .join(language);
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// English words of the pages' frame that a Portuguese page must not show.
const ENGLISH_FRAME: [&str; 6] = [
    "Sign out",
    "Settings",
    "Not available yet",
    "Export this list",
    "No summaries",
    "Skip reasons",
];

/// Checks the page open in `browser` at 1280 and 390 px and saves its screenshots.
async fn check_page(browser: &Client, name: &str, language: &str) {
    for (width, height) in [(1280, 900), (390, 844)] {
        browser
            .set_window_size(width, height)
            .await
            .expect("resize");
        let found = browser
            .execute(
                "const menu = document.querySelector('#language-menu');
                 const signOut = document.querySelector('[data-testid=sign-out]');
                 const covered = [menu, signOut].filter(e => e).filter(e => {
                   e.scrollIntoView({block: 'nearest'});
                   const box = e.getBoundingClientRect();
                   const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
                   return !(top && (top === e || e.contains(top)));
                 }).map(e => e.id || e.dataset.testid);
                 window.scrollTo(0, 0);
                 // The page's own words: the text directly inside its frame, headings, labels
                 // and buttons (not the summaries, names and applications it shows).
                 const text = [...document.querySelectorAll(
                     'header *, h1, h2, h3, label, legend, th, button, summary, dt, .unavailable, .empty, .help')]
                   .flatMap(e => [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()))
                   .filter(t => t).join(' | ');
                 return {
                   lang: document.documentElement.lang,
                   heading: (document.querySelector('main h1') || {}).innerText || null,
                   error: !!document.querySelector('.error-page'),
                   json_boxes: [...document.querySelectorAll('textarea')]
                     .filter(t => /^\\s*[\\[{]/.test(t.value)).map(t => t.name),
                   raw_json: /\\{\\s*\"/.test(document.body.innerText),
                   covered: covered,
                   text: text,
                   sideways: document.documentElement.scrollWidth > window.innerWidth
                     ? [...document.querySelectorAll('body *')]
                         .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                                   && !(e.parentElement && e.parentElement.closest('.scroll')))
                         .map(e => e.tagName + '.' + e.className + ' ' + (e.name || '')).slice(0, 5)
                     : false,
                 };",
                vec![],
            )
            .await
            .expect("measured");
        assert_eq!(
            found["lang"],
            json!(language),
            "{name}: the page's language"
        );
        assert!(
            found["heading"].as_str().is_some_and(|h| !h.is_empty()) && found["error"] == false,
            "{name} ({language}) renders its page, not an error: {}",
            found["heading"]
        );
        assert_eq!(found["json_boxes"], json!([]), "{name}: JSON text boxes");
        assert_eq!(found["raw_json"], false, "{name}: raw JSON on the page");
        assert_eq!(
            found["covered"],
            json!([]),
            "{name} at {width} px: the menu and Sign out are reachable"
        );
        assert_eq!(
            found["sideways"], false,
            "{name} at {width} px scrolls sideways"
        );
        if language != "en" {
            let text = found["text"].as_str().unwrap_or_default();
            for english in ENGLISH_FRAME {
                let at = text.find(english);
                assert!(
                    at.is_none(),
                    "{name} ({language}) shows {english:?}: …{}…",
                    at.map_or(String::new(), |at| text[at..].chars().take(60).collect())
                );
            }
        }
        let png = browser.screenshot().await.expect("screenshot");
        std::fs::write(
            screenshot_dir(language).join(format!("{name}-{width}.png")),
            png,
        )
        .expect("saved");
    }
    browser.set_window_size(1280, 900).await.expect("resize");
}

/// The href of the first element `css` finds.
async fn first_href(browser: &Client, css: &str) -> String {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css}: {error}"))
        .attr("href")
        .await
        .expect("attr")
        .unwrap_or_else(|| panic!("{css} has an href"))
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (scripts/setup.sh installs them)"]
async fn every_demo_page_renders_in_two_languages_in_chromium() {
    let driver = start_driver().await;
    let demo = DemoServer::start().await;
    let browser = browser(&driver).await;

    for language in ["en", "pt-BR"] {
        browser
            .goto(&format!("{}/sign-in?lang={language}", demo.url))
            .await
            .expect("opens");
        wait_for(&browser, "form[action='/sign-in']").await;
        if language == "en" {
            check_sign_in(&browser).await;
        }
        let form = browser
            .form(Locator::Css("form[action='/sign-in']"))
            .await
            .expect("the sign-in form");
        form.set_by_name("company", "demo").await.expect("company");
        form.set_by_name("email", &demo.admin_email)
            .await
            .expect("email");
        form.set_by_name("password", &demo.admin_password)
            .await
            .expect("password");
        form.submit().await.expect("submitted");
        wait_for(&browser, "[data-testid=totals]").await;
        // The visitor's own language, chosen in the header's menu.
        browser
            .find(Locator::Css("#language-menu"))
            .await
            .expect("menu")
            .select_by_value(language)
            .await
            .expect("chosen");
        wait_for(&browser, &format!("html[lang='{language}']")).await;

        let skipped = first_href(&browser, "[data-testid=skip-reasons] a").await;
        let bar = first_href(&browser, "[data-testid=chart-issue-types] a").await;
        let mut pages: Vec<(String, String)> = vec![
            ("insights".into(), "/insights".into()),
            ("insights-filtered".into(), bar),
            ("insights-skipped".into(), skipped),
            (
                "summary-panel".into(),
                "/insights?open=demo-001-outlook-password".into(),
            ),
            (
                "summary-edit".into(),
                "/insights?open=demo-001-outlook-password&edit=1".into(),
            ),
            (
                "summary-delete".into(),
                "/insights?open=demo-001-outlook-password&confirm=delete".into(),
            ),
            ("credits".into(), "/credits".into()),
            ("usage".into(), "/usage".into()),
        ];
        for section in [
            "ai",
            "engine",
            "taxonomy",
            "modules",
            "devices",
            "policies",
            "ai-agents",
            "connectors",
            "webhooks",
            "tokens",
            "roles",
            "users",
            "language",
        ] {
            pages.push((
                format!("settings-{section}"),
                format!("/settings/{section}"),
            ));
        }
        for (name, path) in &pages {
            let path = path.trim_start_matches(&demo.url);
            browser
                .goto(&format!("{}{path}", demo.url))
                .await
                .expect("opens");
            check_page(&browser, name, language).await;
        }
        // The demo shows what it promises: summaries, counted resolutions, credit alerts.
        browser
            .goto(&format!("{}/usage", demo.url))
            .await
            .expect("opens");
        assert!(
            browser
                .find(Locator::Css("[data-testid=usage-totals]"))
                .await
                .is_ok(),
            "the demo's usage page has figures"
        );
        browser
            .find(Locator::Css("[data-testid=sign-out]"))
            .await
            .expect("sign out")
            .click()
            .await
            .expect("signed out");
        wait_for(&browser, "form[action='/sign-in']").await;
    }

    browser.close().await.expect("browser closes");
    demo.stop().await;
}

/// The sign-in page, checked like the others (it has no header to cover).
async fn check_sign_in(browser: &Client) {
    let found: Value = browser
        .execute(
            "return {heading: (document.querySelector('h1') || {}).innerText || null,
                     sideways: document.documentElement.scrollWidth > window.innerWidth};",
            vec![],
        )
        .await
        .expect("measured");
    assert!(found["heading"].is_string(), "{found}");
    assert_eq!(found["sideways"], false);
    let png = browser.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir("en").join("sign-in-1280.png"), png).expect("saved");
}
