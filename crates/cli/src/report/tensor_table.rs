//! The tensor table of the analysis report: per-layer tensors grouped by name template
//! (`blk.N.attn_qkv.weight`, N = 0..31) with their shape, elements and types, globals as they
//! are; from the file, or from the expected layout for a vocab-only file.

use ggufscope_gguf::Gguf;
use ggufscope_model::{ExpectedTensor, TensorSource};
use serde::Serialize;

/// How many tensors of a group have one ggml type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeCount {
    /// ggml type name.
    #[serde(rename = "type")]
    pub ty: String,
    /// Tensors of the group with that type.
    pub count: u64,
}

/// Tensors sharing a name template and a shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TensorGroup {
    /// The name, with `blk.N.` for per-layer tensors (`blk.N.attn_qkv.weight`).
    pub name: String,
    /// The layers, compressed into ranges (`0..31`, `0..3, 6`); `null` for a global tensor.
    pub layers: Option<String>,
    /// Number of tensors in the group.
    pub count: u64,
    /// Shape in ggml `ne` order, `null` when unknown.
    pub shape: Option<Vec<u64>>,
    /// Elements of one tensor, when known.
    pub elements: Option<u64>,
    /// The ggml types, in first-seen order (empty for the expected layout).
    pub types: Vec<TypeCount>,
    /// The shape as formulas (expected layout only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub formula: Vec<&'static str>,
}

/// The tensor table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TensorTable {
    /// `file`, or `expected` for a vocab-only file.
    pub source: TensorSource,
    /// Groups, in the order their first tensor appears.
    pub groups: Vec<TensorGroup>,
    /// Number of tensors.
    pub tensor_count: u64,
    /// Elements of every tensor, when every shape is known.
    pub parameter_count: Option<u64>,
}

/// One tensor before grouping.
struct Item<'a> {
    name: &'a str,
    shape: Option<Vec<u64>>,
    ty: Option<String>,
    formula: Vec<&'static str>,
}

/// `blk.7.attn_q.weight` → (`blk.N.attn_q.weight`, 7).
fn template(name: &str) -> Option<(String, u64)> {
    let rest = name.strip_prefix("blk.")?;
    let (n, tail) = rest.split_once('.')?;
    let layer = n.parse().ok()?;
    Some((format!("blk.N.{tail}"), layer))
}

/// Sorted layers as ranges: `0..3, 6, 9..12`.
pub fn ranges(layers: &[u64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = layers.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == end.checked_add(1).as_ref() {
            end = iter.next().unwrap_or(end);
        }
        parts.push(if end == start {
            start.to_string()
        } else {
            format!("{start}..{end}")
        });
    }
    parts.join(", ")
}

fn elements(shape: Option<&[u64]>) -> Option<u64> {
    shape?.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))
}

impl TensorTable {
    /// The file's tensors, or, when it has none, the expected layout.
    pub fn new(gguf: &Gguf<'_>, expected: &[ExpectedTensor]) -> Self {
        if gguf.tensors().is_empty() {
            let items = expected.iter().map(|t| Item {
                name: &t.name,
                shape: t.dims.clone(),
                ty: None,
                formula: t.formula.clone(),
            });
            Self::group(TensorSource::Expected, items)
        } else {
            let items = gguf.tensors().iter().map(|t| Item {
                name: t.name(),
                shape: Some(t.dims().to_vec()),
                ty: Some(t.ggml_type().to_string()),
                formula: Vec::new(),
            });
            Self::group(TensorSource::File, items)
        }
    }

    fn group<'a>(source: TensorSource, items: impl Iterator<Item = Item<'a>>) -> Self {
        // (group, its layers)
        let mut groups: Vec<(TensorGroup, Vec<u64>)> = Vec::new();
        let (mut count, mut total, mut complete) = (0u64, 0u64, true);
        for item in items {
            count += 1;
            let n = elements(item.shape.as_deref());
            match n {
                Some(n) => total = total.saturating_add(n),
                None => complete = false,
            }
            let (name, layer) = match template(item.name) {
                Some((t, l)) => (t, Some(l)),
                None => (item.name.to_owned(), None),
            };
            let slot = groups
                .iter_mut()
                .position(|(g, _)| g.name == name && g.shape == item.shape);
            let (group, layers) = match slot.and_then(|i| groups.get_mut(i)) {
                Some(entry) => entry,
                None => {
                    groups.push((
                        TensorGroup {
                            name,
                            layers: None,
                            count: 0,
                            shape: item.shape.clone(),
                            elements: n,
                            types: Vec::new(),
                            formula: item.formula.clone(),
                        },
                        Vec::new(),
                    ));
                    match groups.last_mut() {
                        Some(entry) => entry,
                        None => continue,
                    }
                }
            };
            group.count += 1;
            layers.extend(layer);
            if let Some(ty) = item.ty {
                match group.types.iter_mut().find(|t| t.ty == ty) {
                    Some(t) => t.count += 1,
                    None => group.types.push(TypeCount { ty, count: 1 }),
                }
            }
        }
        let groups = groups
            .into_iter()
            .map(|(mut g, mut layers)| {
                if !layers.is_empty() {
                    layers.sort_unstable();
                    g.layers = Some(ranges(&layers));
                }
                g
            })
            .collect();
        Self {
            source,
            groups,
            tensor_count: count,
            parameter_count: complete.then_some(total),
        }
    }

    /// The group of a per-layer tensor (`attn_qkv.weight`) or a global one, if present.
    pub fn find(&self, name: &str) -> Option<&TensorGroup> {
        let per_layer = format!("blk.N.{name}");
        self.groups
            .iter()
            .find(|g| g.name == per_layer || g.name == name)
    }

    /// Names (after `blk.N.`) of the per-layer tensors.
    pub fn layer_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .groups
            .iter()
            .filter_map(|g| g.name.strip_prefix("blk.N."))
            .collect();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_compress_into_ranges() {
        assert_eq!(ranges(&[0, 1, 2, 3]), "0..3");
        assert_eq!(ranges(&[0, 1, 2, 3, 6, 9, 10]), "0..3, 6, 9..10");
        assert_eq!(ranges(&[5]), "5");
        assert_eq!(ranges(&[]), "");
    }

    #[test]
    fn per_layer_names_become_templates() {
        assert_eq!(
            template("blk.31.ffn_up.weight"),
            Some(("blk.N.ffn_up.weight".to_owned(), 31))
        );
        assert_eq!(template("token_embd.weight"), None);
        assert_eq!(template("blk.x.y"), None);
    }

    #[test]
    fn phi3_preset_groups_into_nine_rows() {
        let fixture = ggufscope_testkit::presets::phi3_mini_4k();
        let file = fixture.write_sparse_temp();
        // Through `Input`, as the commands read it (on a 32-bit target this 2.2 GB file is too
        // large to map and its head is read instead).
        let input = crate::input::Input::open(file.path()).unwrap();
        let gguf = input.parse().unwrap();
        let table = TensorTable::new(&gguf, &[]);
        assert_eq!(table.groups.len(), 9);
        assert_eq!(table.tensor_count, 195);
        assert_eq!(table.parameter_count, Some(3_821_079_552));
        let qkv = table.find("attn_qkv.weight").unwrap();
        assert_eq!(qkv.layers.as_deref(), Some("0..31"));
        assert_eq!(qkv.shape, Some(vec![3072, 9216]));
        let down = table.find("ffn_down.weight").unwrap();
        assert_eq!(down.count, 32);
        assert_eq!(down.types.iter().map(|t| t.count).sum::<u64>(), 32);
    }
}
