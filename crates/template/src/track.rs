//! Values that record how a template touches them, for the capability probe: llama.cpp's engine
//! marks a value `used` when a member access returns it (its parent too) and records `ops` on
//! the value a for loop iterates (`array_access`/`object_access`), a filter or a test is applied
//! to (`common/jinja/runtime.cpp`, `value.cpp` `mark_used`). Here a JSON input is wrapped in
//! objects that record the same, by path (`messages.1.tool_calls`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use serde_json::Value as Json;

/// What the template did with each path.
#[derive(Debug, Default)]
pub struct Stats {
    /// Paths a member access returned (or whose member was read).
    pub used: BTreeSet<String>,
    /// Operations per path (`array_access`, `object_access`, `selectattr`, …).
    pub ops: BTreeMap<String, BTreeSet<String>>,
}

/// Shared stats of one probe run.
pub type SharedStats = Arc<Mutex<Stats>>;

fn with(stats: &SharedStats, f: impl FnOnce(&mut Stats)) {
    if let Ok(mut s) = stats.lock() {
        f(&mut s);
    }
}

/// Records an operation on `path`.
pub fn record_op(stats: &SharedStats, path: &str, op: &str) {
    with(stats, |s| {
        s.used.insert(path.to_string());
        s.ops
            .entry(path.to_string())
            .or_default()
            .insert(op.to_string());
    });
}

/// A tracked JSON array or object.
#[derive(Debug)]
pub struct Tracked {
    /// Where it is (`messages.0`).
    pub path: String,
    json: Json,
    /// The probe's stats.
    pub stats: SharedStats,
}

/// Wraps `json` at `path`: arrays and objects become [`Tracked`], scalars plain values.
pub fn wrap(json: &Json, path: String, stats: &SharedStats) -> Value {
    match json {
        Json::Array(_) | Json::Object(_) => Value::from_object(Tracked {
            path,
            json: json.clone(),
            stats: stats.clone(),
        }),
        other => crate::render::to_value(other),
    }
}

impl Tracked {
    fn child(&self, key: &str, json: &Json) -> Value {
        wrap(json, format!("{}.{key}", self.path), &self.stats)
    }
}

impl Object for Tracked {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match self.json {
            Json::Array(_) => ObjectRepr::Seq,
            _ => ObjectRepr::Map,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match &self.json {
            Json::Array(items) => {
                let len = i64::try_from(items.len()).ok()?;
                let mut i = key.as_i64()?;
                if i < 0 {
                    i += len;
                }
                let idx = usize::try_from(i).ok()?;
                let item = items.get(idx)?;
                let child = format!("{}.{idx}", self.path);
                with(&self.stats, |s| {
                    s.used.insert(child.clone());
                    s.used.insert(self.path.clone());
                    s.ops
                        .entry(self.path.clone())
                        .or_default()
                        .insert("array_access".into());
                });
                Some(wrap(item, child, &self.stats))
            }
            Json::Object(map) => {
                let k = key.as_str()?;
                let item = map.get(k)?;
                let child = format!("{}.{k}", self.path);
                with(&self.stats, |s| {
                    s.used.insert(child.clone());
                    s.used.insert(self.path.clone());
                    s.ops
                        .entry(self.path.clone())
                        .or_default()
                        .insert("object_access".into());
                });
                Some(self.child(k, item))
            }
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match &self.json {
            Json::Array(items) => {
                record_op(&self.stats, &self.path, "array_access");
                let values: Vec<Value> = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| self.child(&i.to_string(), v))
                    .collect();
                Enumerator::Iter(Box::new(values.into_iter()))
            }
            Json::Object(map) => {
                record_op(&self.stats, &self.path, "object_access");
                let keys: Vec<Value> = map.keys().map(|k| Value::from(k.as_str())).collect();
                Enumerator::Iter(Box::new(keys.into_iter()))
            }
            _ => Enumerator::NonEnumerable,
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        match &self.json {
            Json::Array(items) => Some(items.len()),
            Json::Object(map) => Some(map.len()),
            _ => None,
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Printing is not a use llama.cpp counts: no enumeration through the tracker.
        f.write_str(&crate::render::python_str(&crate::render::to_value(
            &self.json,
        )))
    }

    fn is_true(self: &Arc<Self>) -> bool {
        match &self.json {
            Json::Array(items) => !items.is_empty(),
            Json::Object(map) => !map.is_empty(),
            _ => true,
        }
    }
}

/// The plain (untracked) value of a tracked one: printing or serialising a value is not a use
/// llama.cpp counts.
pub fn untracked(value: &Value) -> Option<Value> {
    value
        .downcast_object_ref::<Tracked>()
        .map(|t| crate::render::to_value(&t.json))
}

/// Marks a tracked value and everything under it used (llama.cpp's `tojson` does,
/// value.cpp:248-252).
pub fn mark_deep(value: &Value) {
    if let Some(t) = value.downcast_object_ref::<Tracked>() {
        let mut paths = Vec::new();
        collect_paths(&t.json, t.path.clone(), &mut paths);
        with(&t.stats, |s| s.used.extend(paths));
    }
}

fn collect_paths(json: &Json, path: String, out: &mut Vec<String>) {
    match json {
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_paths(v, format!("{path}.{i}"), out);
            }
        }
        Json::Object(map) => {
            for (k, v) in map {
                collect_paths(v, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
    out.push(path);
}
