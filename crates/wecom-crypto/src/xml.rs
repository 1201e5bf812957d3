//! A small, strict XML reader for WeCom's flat `<xml>…</xml>` documents, on top of `quick-xml`.
//!
//! It builds a tree of elements with their concatenated text (text and CDATA), ignores attributes,
//! comments, processing instructions and the XML declaration, and refuses DTDs and unknown entities (so no
//! entity expansion of any kind). It never recurses, so deep nesting cannot overflow the stack, and caps the
//! depth anyway.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

use crate::error::{Error, Result};

/// Deepest element nesting accepted.
const MAX_DEPTH: usize = 32;

/// One XML element: its name, its own text (not trimmed) and its child elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The text, trimmed of surrounding whitespace.
    pub fn trimmed(&self) -> &str {
        self.text.trim()
    }

    /// The only child named `name`, if any; an error if there are several.
    pub fn child(&self, name: &str) -> Result<Option<&Element>> {
        let mut found = None;
        for c in self.children.iter().filter(|c| c.name == name) {
            if found.is_some() {
                return Err(Error::DuplicateField(name.to_owned()));
            }
            found = Some(c);
        }
        Ok(found)
    }

    /// The trimmed text of the only child named `name`, if any.
    pub fn text_of(&self, name: &str) -> Result<Option<String>> {
        Ok(self.child(name)?.map(|c| c.trimmed().to_owned()))
    }

    /// Every leaf below this element as (slash-separated path, trimmed text), in document order.
    pub fn leaves(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut stack: Vec<(String, &Element)> = self.children.iter().rev().map(|c| (c.name.clone(), c)).collect();
        while let Some((path, el)) = stack.pop() {
            if el.children.is_empty() {
                out.push((path, el.trimmed().to_owned()));
            } else {
                for c in el.children.iter().rev() {
                    stack.push((format!("{path}/{}", c.name), c));
                }
            }
        }
        out
    }
}

fn xml_err(e: impl std::fmt::Display) -> Error {
    Error::Xml(crate::error::clip(&e.to_string()))
}

/// Parses a whole document into its root element.
pub(crate) fn parse(xml: &str) -> Result<Element> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader.read_event().map_err(xml_err)?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(Error::Xml("content after the root element".into()));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::Xml("elements nested too deep".into()));
                }
                let name = std::str::from_utf8(start.name().as_ref()).map_err(xml_err)?.to_owned();
                stack.push(Element { name, ..Element::default() });
            }
            Event::Empty(start) => {
                let name = std::str::from_utf8(start.name().as_ref()).map_err(xml_err)?.to_owned();
                let el = Element { name, ..Element::default() };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None if root.is_none() => root = Some(el),
                    None => return Err(Error::Xml("content after the root element".into())),
                }
            }
            Event::End(_) => {
                // quick-xml checks that end names match their start.
                let el = stack.pop().ok_or_else(|| Error::Xml("unmatched end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(text) => {
                let s = text.xml10_content().map_err(xml_err)?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(Error::Xml("text outside the root element".into())),
                }
            }
            Event::CData(data) => {
                let s = data.decode().map_err(xml_err)?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None => return Err(Error::Xml("CDATA outside the root element".into())),
                }
            }
            Event::GeneralRef(r) => {
                let resolved: String = match r.resolve_char_ref().map_err(xml_err)? {
                    Some(ch) => ch.to_string(),
                    None => {
                        let name = r.decode().map_err(xml_err)?;
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| Error::Xml(format!("unknown entity &{};", crate::error::clip(&name))))?
                            .to_owned()
                    }
                };
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&resolved),
                    None => return Err(Error::Xml("reference outside the root element".into())),
                }
            }
            Event::DocType(_) => return Err(Error::Xml("DTDs are not accepted".into())),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(Error::Xml("unclosed element".into()));
    }
    root.ok_or_else(|| Error::Xml("no root element".into()))
}

/// Parses a document whose root must be `<xml>`.
pub(crate) fn parse_xml_root(xml: &str) -> Result<Element> {
    let root = parse(xml)?;
    if root.name != "xml" {
        return Err(Error::Xml(format!("root element is <{}>, not <xml>", crate::error::clip(&root.name))));
    }
    Ok(root)
}

/// Writes `<![CDATA[value]]>`, splitting any `]]>` inside so the section stays well formed.
pub(crate) fn push_cdata(out: &mut String, value: &str) {
    out.push_str("<![CDATA[");
    out.push_str(&value.replace("]]>", "]]]]><![CDATA[>"));
    out.push_str("]]>");
}

/// Writes `value` as escaped element text.
pub(crate) fn push_text(out: &mut String, value: &str) {
    out.push_str(&quick_xml::escape::escape(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cdata_text_entities_and_nesting() {
        let root = parse_xml_root(
            "<?xml version=\"1.0\"?><xml><A><![CDATA[x]]></A><B>1 &amp; &#x32;</B><C>\n <D>d</D><D>e</D></C><E/></xml>",
        )
        .unwrap();
        assert_eq!(root.text_of("A").unwrap().as_deref(), Some("x"));
        assert_eq!(root.text_of("B").unwrap().as_deref(), Some("1 & 2"));
        assert_eq!(root.text_of("E").unwrap().as_deref(), Some(""));
        assert_eq!(root.child("C").unwrap().unwrap().children.len(), 2);
        assert!(matches!(root.child("D"), Ok(None)));
        assert_eq!(
            root.leaves(),
            vec![
                ("A".to_owned(), "x".to_owned()),
                ("B".to_owned(), "1 & 2".to_owned()),
                ("C/D".to_owned(), "d".to_owned()),
                ("C/D".to_owned(), "e".to_owned()),
                ("E".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn refuses_malformed_and_dangerous_documents() {
        for bad in [
            "",
            "   ",
            "<xml>",
            "<xml></yml>",
            "</xml>",
            "<xml></xml><xml></xml>",
            "<xml></xml>trailing",
            "<xml>&foo;</xml>",
            "<!DOCTYPE xml [<!ENTITY a \"b\">]><xml>&a;</xml>",
            "<notxml></notxml>",
        ] {
            assert!(parse_xml_root(bad).is_err(), "{bad:?} should be refused");
        }
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn duplicate_children_are_an_error() {
        let root = parse_xml_root("<xml><A>1</A><A>2</A></xml>").unwrap();
        assert_eq!(root.child("A"), Err(Error::DuplicateField("A".into())));
    }

    #[test]
    fn cdata_writer_survives_terminators() {
        let mut s = String::from("<xml><A>");
        push_cdata(&mut s, "a]]>b");
        s.push_str("</A></xml>");
        assert_eq!(parse_xml_root(&s).unwrap().text_of("A").unwrap().as_deref(), Some("a]]>b"));
    }
}
