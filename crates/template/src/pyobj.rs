//! Python values minijinja does not have, where their difference shows in templates.
//!
//! - [`PyNone`]: the `None` transformers passes as `tools`/`documents` when they are not given.
//!   Python cannot iterate it or take its length (`for t in tools` raises `TypeError: 'NoneType'
//!   object is not iterable`), where minijinja iterates `none` as empty. It tests `is none`,
//!   is falsy, prints `None` and serialises as `null`.
//! - [`Generator`]: what jinja2's `map`, `select`, `reject`, `selectattr`, `rejectattr` return.
//!   It iterates, is always true, has no length, and `json.dumps` refuses it.

use std::fmt;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};

/// Python's `None` where it differs from minijinja's `none`.
#[derive(Debug)]
pub struct PyNone;

impl Object for PyNone {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }

    fn is_true(self: &Arc<Self>) -> bool {
        false
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("None")
    }
}

/// Whether a value is `None` (minijinja's or [`PyNone`]).
pub fn is_py_none(value: &Value) -> bool {
    value.is_none() || value.downcast_object_ref::<PyNone>().is_some()
}

/// A jinja2 generator (the result of `map`, `select`, …).
#[derive(Debug)]
pub struct Generator(pub Vec<Value>);

impl Object for Generator {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Iterable
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Iter(Box::new(self.0.clone().into_iter()))
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        None
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<generator object sync_do_map>")
    }
}

/// Registers the generator-returning filters (the builtins stay reachable as `__builtin_NAME`)
/// and the `none`/`iterable` tests that know [`PyNone`].
pub fn register(env: &mut Environment<'static>, probe: Option<crate::track::SharedStats>) {
    env.add_filter("__builtin_map", minijinja::filters::map);
    env.add_filter("__builtin_select", minijinja::filters::select);
    env.add_filter("__builtin_reject", minijinja::filters::reject);
    env.add_filter("__builtin_selectattr", minijinja::filters::selectattr);
    env.add_filter("__builtin_rejectattr", minijinja::filters::rejectattr);
    for name in ["map", "select", "reject", "selectattr", "rejectattr"] {
        let inner = format!("__builtin_{name}");
        env.add_filter(
            name,
            move |state: &mut State, args: Rest<Value>| -> Result<Value, Error> {
                // jinja2's `do_map`/`select_or_reject` iterate only a truthy input (`if value:`).
                if args.first().is_some_and(|v| !v.is_true()) {
                    return Ok(Value::from_object(Generator(Vec::new())));
                }
                let out = state.apply_filter(&inner, &args)?;
                let items: Vec<Value> = out.try_iter()?.collect();
                Ok(Value::from_object(Generator(items)))
            },
        );
    }
    env.add_test("none", |v: &Value| is_py_none(v));
    if let Some(stats) = probe {
        env.add_test("string", move |v: &Value| {
            if v.as_str() == Some(crate::caps::STRING_MARKER) {
                crate::track::record_op(&stats, "messages.0.content", "test_is_string");
            } else if let Some(t) = v.downcast_object_ref::<crate::track::Tracked>() {
                crate::track::record_op(&stats, &t.path, "test_is_string");
            }
            v.kind() == minijinja::value::ValueKind::String
        });
    }
    env.add_test("iterable", |v: &Value| {
        v.is_undefined() || (!is_py_none(v) && v.try_iter().is_ok())
    });
    env.add_filter("list", |v: &Value| -> Result<Value, Error> {
        if v.downcast_object_ref::<PyNone>().is_some() || v.is_none() {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "'NoneType' object is not iterable",
            ));
        }
        if let Some(s) = v.as_str() {
            return Ok(Value::from(
                s.chars()
                    .map(|c| Value::from(c.to_string()))
                    .collect::<Vec<_>>(),
            ));
        }
        if v.is_undefined() {
            return Ok(Value::from(Vec::<Value>::new()));
        }
        Ok(Value::from(v.try_iter()?.collect::<Vec<_>>()))
    });
}
