//! A small element tree read from the XML that the AWS Query APIs answer with.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::Reader;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::error::AwsError;

/// One element: its local name (namespace prefix dropped), its own text, its children.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: String,
    text: String,
    pub children: Vec<Element>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub(crate) struct XmlError(String);

impl Element {
    /// Reads a whole document and returns its root element.
    pub fn parse(document: &str) -> Result<Element, XmlError> {
        let mut reader = Reader::from_str(document);
        // Open elements; the bottom one is a synthetic holder for the root.
        let mut stack = vec![Element::default()];
        loop {
            let event = reader.read_event().map_err(|e| XmlError(e.to_string()))?;
            match event {
                Event::Start(start) => stack.push(Element {
                    name: start.local_name().into_inner().to_owned(),
                    ..Element::default()
                }),
                Event::Empty(start) => {
                    let element = Element {
                        name: start.local_name().into_inner().to_owned(),
                        ..Element::default()
                    };
                    top(&mut stack).children.push(element);
                }
                Event::End(_) => {
                    if stack.len() < 2 {
                        return Err(XmlError("a closing tag has no opening tag".into()));
                    }
                    let done = stack.pop().expect("checked above");
                    top(&mut stack).children.push(done);
                }
                Event::Text(text) => top(&mut stack).text.push_str(&text.xml10_content()),
                Event::CData(data) => top(&mut stack).text.push_str(&data.xml10_content()),
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => {
                            let name = reference.xml10_content();
                            match resolve_predefined_entity(&name) {
                                Some(s) => s.to_owned(),
                                None => return Err(XmlError(format!("unknown entity &{name};"))),
                            }
                        }
                        Err(e) => return Err(XmlError(e.to_string())),
                    };
                    top(&mut stack).text.push_str(&resolved);
                }
                Event::Eof => break,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
        if stack.len() != 1 {
            return Err(XmlError("the document ends inside an element".into()));
        }
        let mut holder = stack.pop().expect("one element left");
        match holder.children.len() {
            1 => Ok(holder.children.pop().expect("one child")),
            0 => Err(XmlError("the document has no element".into())),
            _ => Err(XmlError(
                "the document has more than one root element".into(),
            )),
        }
    }

    /// The element's own text, without surrounding whitespace.
    pub fn text(&self) -> &str {
        self.text.trim()
    }

    /// The first element named `name` at any depth below this one (depth first, in document
    /// order).
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|child| {
            if child.name == name {
                Some(child)
            } else {
                child.find(name)
            }
        })
    }

    /// The text of the first element named `name` at any depth below this one.
    pub fn find_text(&self, name: &str) -> Option<&str> {
        self.find(name).map(Element::text)
    }

    /// The direct children named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// An ISO 8601 timestamp as AWS writes it (`2024-05-01T12:00:00Z`, with or without fractional
/// seconds); one without an offset is taken as UTC.
pub(crate) fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let iso = time::format_description::well_known::Iso8601::DEFAULT;
    PrimitiveDateTime::parse(text, &iso)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Reads required fields of an answer, failing with an error that names the missing one.
pub(crate) struct Field<'a> {
    element: &'a Element,
    action: &'a str,
}

impl<'a> Field<'a> {
    pub(crate) fn new(element: &'a Element, action: &'a str) -> Self {
        Field { element, action }
    }

    /// The action whose answer this is.
    pub(crate) fn action(&self) -> &'a str {
        self.action
    }

    /// The first element named `name` below this one.
    pub(crate) fn child(&self, name: &str) -> Result<Field<'a>, AwsError> {
        let element = self
            .element
            .find(name)
            .ok_or_else(|| missing(self.action, name))?;
        Ok(Field {
            element,
            action: self.action,
        })
    }

    /// The elements named `name` directly below this one.
    pub(crate) fn each(&self, name: &'a str) -> impl Iterator<Item = Field<'a>> + 'a {
        let action = self.action;
        self.element
            .children_named(name)
            .map(move |element| Field { element, action })
    }

    /// The text of the first element named `name` below this one, if there is one.
    pub(crate) fn optional_text(&self, name: &str) -> Option<String> {
        self.element.find_text(name).map(str::to_owned)
    }

    /// The text of the first element named `name` below this one.
    pub(crate) fn text(&self, name: &str) -> Result<String, AwsError> {
        self.element
            .find_text(name)
            .map(str::to_owned)
            .ok_or_else(|| missing(self.action, name))
    }

    pub(crate) fn time(&self, name: &str) -> Result<OffsetDateTime, AwsError> {
        let text = self.text(name)?;
        parse_timestamp(&text).ok_or_else(|| AwsError::MalformedAnswer {
            action: self.action.to_owned(),
            detail: format!("{name} is not a timestamp: {text:?}"),
        })
    }
}

pub(crate) fn missing(action: &str, name: &str) -> AwsError {
    AwsError::MalformedAnswer {
        action: action.to_owned(),
        detail: format!("it has no {name}"),
    }
}

fn top(stack: &mut [Element]) -> &mut Element {
    stack
        .last_mut()
        .expect("the holder element is never popped")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_text_and_drops_namespace_prefixes() {
        let doc = r#"<?xml version="1.0"?>
            <r:Resp xmlns:r="urn:x"><r:Result><Arn>arn:aws:iam::1:user/a</Arn></r:Result></r:Resp>"#;
        let root = Element::parse(doc).unwrap();
        assert_eq!(root.name, "Resp");
        assert_eq!(root.find_text("Arn"), Some("arn:aws:iam::1:user/a"));
    }

    #[test]
    fn resolves_entities_and_cdata() {
        let doc = "<a><m>x &amp; y &#65;&lt;</m><c><![CDATA[<raw>]]></c></a>";
        let root = Element::parse(doc).unwrap();
        assert_eq!(root.find_text("m"), Some("x & y A<"));
        assert_eq!(root.find_text("c"), Some("<raw>"));
    }

    #[test]
    fn lists_direct_children_by_name() {
        let root = Element::parse("<l><member>1</member><x/><member>2</member></l>").unwrap();
        let values: Vec<_> = root.children_named("member").map(Element::text).collect();
        assert_eq!(values, ["1", "2"]);
    }

    #[test]
    fn reads_aws_timestamps_with_and_without_fractions_and_offsets() {
        let whole = parse_timestamp("2024-05-01T12:00:00Z").unwrap();
        assert_eq!(whole.unix_timestamp(), 1_714_564_800);
        let fraction = parse_timestamp("2024-05-01T12:00:00.123456+00:00").unwrap();
        assert_eq!(fraction.unix_timestamp(), 1_714_564_800);
        assert_eq!(parse_timestamp("2024-05-01T12:00:00").unwrap(), whole);
        assert_eq!(parse_timestamp("N/A"), None);
    }

    #[test]
    fn field_reports_the_missing_element_by_name() {
        let answer = Element::parse("<R><Result><Arn>a</Arn></Result></R>").unwrap();
        let field = Field::new(&answer, "GetCallerIdentity");
        assert_eq!(field.text("Arn").unwrap(), "a");
        let err = field.text("Account").unwrap_err();
        assert_eq!(
            err.to_string(),
            "AWS's answer to GetCallerIdentity could not be read: it has no Account"
        );
    }

    #[test]
    fn rejects_html_and_truncated_documents() {
        assert!(Element::parse("<html><body><p>oops</body></html>").is_err());
        assert!(Element::parse("<a><b>").is_err());
        assert!(Element::parse("Internal Server Error").is_err());
    }
}
