//! How the text renderer reads the report views: [`render`]'s traits implemented for
//! `report::value` and `report::issues` (so that `render` knows no report structure and
//! `report` builds on `render`, one way). They are plain accessors; they belong beside the view
//! types and can move there as they are.

use crate::render::{IssueLine, OneLine, Shown, Text};
use crate::report::issues::IssueView;
use crate::report::value::{TextView, ValueView};

impl Text for TextView {
    fn text(&self) -> &str {
        &self.text
    }

    fn is_utf8(&self) -> bool {
        self.utf8
    }

    fn byte_len(&self) -> u64 {
        self.bytes
    }
}

impl OneLine for ValueView {
    type Text = TextView;

    fn shown(&self) -> Shown<'_, Self> {
        match self {
            Self::Unsigned(n) => Shown::Unsigned(*n),
            Self::Signed(n) => Shown::Signed(*n),
            Self::Float(f) => Shown::Float(*f),
            Self::NonFinite(s) => Shown::NonFinite(s),
            Self::Bool(b) => Shown::Bool(*b),
            Self::Text(t) => Shown::Text(t),
            Self::Array(a) => Shown::Array {
                element_type: a.element_type,
                len: a.len,
                head: &a.head,
            },
        }
    }
}

impl IssueLine for IssueView {
    fn severity(&self) -> &str {
        self.severity
    }

    fn code(&self) -> &str {
        self.code
    }

    fn place(&self) -> String {
        IssueView::place(self)
    }

    fn message(&self) -> &str {
        &self.message
    }
}

#[cfg(test)]
mod tests {
    use crate::render;
    use crate::report::value::{ArrayView, TextView, ValueView};

    #[test]
    fn values_render_on_one_line() {
        let text = |s: &str| {
            ValueView::Text(TextView {
                text: s.to_owned(),
                utf8: true,
                bytes: s.len() as u64,
            })
        };
        assert_eq!(render::value(&ValueView::Float(1e-5)), "1e-5");
        assert_eq!(render::value(&ValueView::NonFinite("NaN")), "NaN");
        let array = ValueView::Array(ArrayView {
            element_type: "string",
            len: 3,
            head: vec![text("a"), text("b\n")],
            invalid_utf8: Vec::new(),
        });
        assert_eq!(render::value(&array), r#"[string; 3] ["a", "b\n", …]"#);
    }
}
