//! h2spec's JUnit report (its `-j` flag): a `<testsuite>` per group of cases and in it a
//! `<testcase package="http2/6.5.3" classname="...">` per case that ran, holding
//! `<skipped>` if the case was skipped and `<error>` or `<failure>` (the frames it
//! expected, then the one it got) if it failed. h2spec writes the error text verbatim,
//! unescaped, so this reads the few tags it needs by hand rather than as strict XML.

use std::collections::BTreeMap;

/// How one case went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server behaved as the case requires.
    Passed,
    /// It did not: what h2spec expected, and what it got.
    Failed(String),
    /// h2spec did not test it (for example, the case needs a response body).
    Skipped,
}

/// One case of a run.
#[derive(Clone, Debug)]
pub struct Case {
    /// h2spec's ID for the case, as its command line takes it: the group and the
    /// case's number in the group, e.g. `http2/6.5.3/2`.
    pub id: String,
    /// What the case does, e.g. "Sends a SETTINGS frame without ACK flag".
    pub description: String,
    /// How it went.
    pub outcome: Outcome,
}

/// The cases of a run of every case, in h2spec's order. Each group's cases are
/// numbered from 1 in report order, as h2spec numbers them: a full run reports every
/// case (a run of selected cases leaves the others out, so its numbers would be off).
pub fn parse_full_run(report: &str) -> Result<Vec<Case>, String> {
    let mut numbers: BTreeMap<String, usize> = BTreeMap::new();
    let cases = testcases(report)?
        .into_iter()
        .map(|testcase| {
            let number = numbers.entry(testcase.group.clone()).or_default();
            *number += 1;
            Case {
                id: format!("{}/{number}", testcase.group),
                description: testcase.description,
                outcome: testcase.outcome,
            }
        })
        .collect();
    Ok(cases)
}

/// The outcome of a run of the single case `id`, whose report holds that case alone.
pub fn parse_single_case(report: &str, id: &str) -> Result<Outcome, String> {
    let group = id.rsplit_once('/').map_or(id, |(group, _number)| group);
    match testcases(report)?.as_slice() {
        [only] if only.group == group => Ok(only.outcome.clone()),
        other => Err(format!(
            "expected the report of a run of {id} to hold that case alone, it holds {} \
             case(s) of groups {:?}",
            other.len(),
            other.iter().map(|case| &case.group).collect::<Vec<_>>()
        )),
    }
}

/// A `<testcase>` element, before it is numbered.
struct Testcase {
    group: String,
    description: String,
    outcome: Outcome,
}

/// Every `<testcase>` of the report, in order. Fails on a report with none, which no
/// complete run writes.
fn testcases(report: &str) -> Result<Vec<Testcase>, String> {
    let mut found = Vec::new();
    let mut rest = report;
    while let Some(start) = rest.find("<testcase ") {
        let element = &rest[start..];
        let tag_end = element
            .find('>')
            .ok_or_else(|| "an unterminated <testcase> tag".to_owned())?;
        let tag = &element[..tag_end];
        let (body, after) = if tag.ends_with('/') {
            ("", &element[tag_end + 1..])
        } else {
            let body = &element[tag_end + 1..];
            let close = body
                .find("</testcase>")
                .ok_or_else(|| format!("no </testcase> after {tag}>"))?;
            (&body[..close], &body[close..])
        };
        found.push(Testcase {
            group: attribute(tag, "package")?,
            description: attribute(tag, "classname")?,
            outcome: outcome(body),
        });
        rest = after;
    }
    if found.is_empty() {
        return Err("the report holds no <testcase>".to_owned());
    }
    Ok(found)
}

/// The value of the attribute `name` in a start tag, unescaped.
fn attribute(tag: &str, name: &str) -> Result<String, String> {
    let prefix = format!(" {name}=\"");
    let start = tag
        .find(&prefix)
        .ok_or_else(|| format!("no {name} attribute in {tag}>"))?
        + prefix.len();
    let length = tag[start..]
        .find('"')
        .ok_or_else(|| format!("an unterminated {name} attribute in {tag}>"))?;
    Ok(unescape(&tag[start..start + length]))
}

/// A case's outcome from the body of its `<testcase>` element.
fn outcome(body: &str) -> Outcome {
    if body.contains("<skipped") {
        return Outcome::Skipped;
    }
    for element in ["error", "failure"] {
        if let Some(text) = element_text(body, element) {
            let reason = unescape(text.trim());
            return Outcome::Failed(if reason.is_empty() {
                format!("<{element}> without a reason")
            } else {
                reason
            });
        }
    }
    Outcome::Passed
}

/// The text inside the first `<name ...>...</name>` element of `body`, if any.
fn element_text<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let open = body.find(&format!("<{name}"))?;
    let after_open = &body[open..];
    let content = after_open.find('>')? + 1;
    if after_open[..content].ends_with("/>") {
        return Some("");
    }
    let content = &after_open[content..];
    let close = content.find(&format!("</{name}>")).unwrap_or(content.len());
    Some(&content[..close])
}

/// Replaces XML's predefined entities and character references (Go's encoder writes
/// `"` as `&#34;`, for example). Anything else is left as written.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let entity = &rest[amp..];
        let decoded = entity.find(';').and_then(|end| {
            let character = match &entity[1..end] {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                reference => character_reference(reference)?,
            };
            Some((character, end + 1))
        });
        match decoded {
            Some((character, length)) => {
                out.push(character);
                rest = &entity[length..];
            }
            None => {
                out.push('&');
                rest = &entity[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character of a reference's text between `&` and `;`: `#34` or `#x22`.
fn character_reference(reference: &str) -> Option<char> {
    let number = reference.strip_prefix('#')?;
    let code = match number.strip_prefix('x') {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => number.parse().ok()?,
    };
    char::from_u32(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape h2spec writes: suites in order, verbatim error text.
    const REPORT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="2. Streams and Multiplexing" package="generic/2" id="2" tests="2">
    <testcase package="generic/2" classname="Sends a PRIORITY frame on idle stream" time="0.0007"></testcase>
    <testcase package="generic/2" classname="Sends a &#34;quoted&#34; frame" time="2.0013">
      <error>DATA frame
HEADERS Frame (length:77, flags:0x05, stream_id:1)</error>
    </testcase>
  </testsuite>
  <testsuite name="6.5.3. Settings Synchronization" package="http2/6.5.3" id="6.5.3" tests="1">
    <testcase package="http2/6.5.3" classname="Sends multiple values" time="0.0011">
      <skipped></skipped>
    </testcase>
    <testcase package="http2/6.5.3" classname="Sends a SETTINGS frame" time="0.0005"/>
  </testsuite>
</testsuites>"#;

    #[test]
    fn numbers_each_groups_cases_from_one() {
        let cases = parse_full_run(REPORT).unwrap();
        let ids: Vec<_> = cases.iter().map(|case| case.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "generic/2/1",
                "generic/2/2",
                "http2/6.5.3/1",
                "http2/6.5.3/2"
            ]
        );
    }

    #[test]
    fn reads_each_outcome_and_unescapes_descriptions() {
        let cases = parse_full_run(REPORT).unwrap();
        assert_eq!(cases[0].outcome, Outcome::Passed);
        assert_eq!(cases[1].description, r#"Sends a "quoted" frame"#);
        assert_eq!(
            cases[1].outcome,
            Outcome::Failed(
                "DATA frame\nHEADERS Frame (length:77, flags:0x05, stream_id:1)".into()
            )
        );
        assert_eq!(cases[2].outcome, Outcome::Skipped);
        assert_eq!(cases[3].outcome, Outcome::Passed);
    }

    #[test]
    fn a_single_case_report_must_hold_that_case_alone() {
        let single = r#"<testcase package="http2/5.1" classname="x" time="0"></testcase>"#;
        assert_eq!(
            parse_single_case(single, "http2/5.1/8"),
            Ok(Outcome::Passed)
        );
        assert!(parse_single_case(single, "http2/5.2/1").is_err());
        assert!(parse_single_case(REPORT, "generic/2/1").is_err());
    }

    #[test]
    fn a_report_without_cases_is_an_error() {
        assert!(parse_full_run("<testsuites></testsuites>").is_err());
    }
}
