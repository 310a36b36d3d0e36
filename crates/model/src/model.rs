//! [`Model`]: the front door of the crate. Built once from a parsed file: the architecture,
//! llama.cpp's loader run by the architecture table (hyper-parameters, every tensor request),
//! the facts a scheduler needs, the `ModelConfig` where the architecture has a
//! spec, and an index of the file's tensors with every `blk.N.` name parsed once. Validation,
//! comparison, the Llama plan and the memory plan are its methods.

use ggufscope_gguf::{Gguf, TensorInfo};

use crate::compare::{compare, compare_facts, Comparison, FactsSide};
use crate::compat::{plan, AdapterPlan};
use crate::config::ModelConfig;
use crate::error::{ArchError, Inconsistency};
use crate::facts::ArchFacts;
use crate::memory::{plan_memory_with, MemoryOptions, MemoryPlan};
use crate::table::{self, LoadProblem, Loaded, Refusal, TensorMode};

/// The file's tensors by block: `blk.N.rest` parsed once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TensorIndex {
    /// Indices (into `Gguf::tensors`) of the tensors that are not per-block.
    pub globals: Vec<usize>,
    /// Per block `N`: indices of its tensors.
    pub blocks: Vec<Vec<usize>>,
}

impl TensorIndex {
    /// Indexes a file's tensors (`blk.N.` names by block; other names are global; a block
    /// number above [`crate::MAX_LAYERS`] is kept global rather than allocating for it).
    pub fn new(gguf: &Gguf<'_>) -> Self {
        let mut idx = Self::default();
        for (i, t) in gguf.tensors().iter().enumerate() {
            let block = t
                .name()
                .strip_prefix("blk.")
                .and_then(|r| r.split_once('.'))
                .and_then(|(n, _)| n.parse::<usize>().ok())
                .filter(|&n| n < usize::try_from(crate::MAX_LAYERS).unwrap_or(512));
            match block {
                Some(n) => {
                    if idx.blocks.len() <= n {
                        idx.blocks.resize_with(n + 1, Vec::new);
                    }
                    if let Some(b) = idx.blocks.get_mut(n) {
                        b.push(i);
                    }
                }
                None => idx.globals.push(i),
            }
        }
        idx
    }
}

/// What llama.cpp's loader would refuse in a file, from one run of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadCheck<'m> {
    /// The hyper-parameter code threw (nothing else was checked).
    pub hparams_refusal: Option<&'m Refusal>,
    /// Required tensors missing, tensors of the wrong shape.
    pub problems: &'m [LoadProblem],
    /// The tensor code threw.
    pub tensors_refusal: Option<&'m Refusal>,
    /// llama.cpp loads the file but its graph code aborts creating a context.
    pub graph_refusal: Option<&'m Refusal>,
    /// Tensors llama.cpp never creates for this architecture ("wrong number of tensors").
    pub unexpected: &'m [String],
    /// The file has no tensors: nothing was checked against the file.
    pub vocab_only: bool,
}

impl LoadCheck<'_> {
    /// Whether llama.cpp would load the file (as far as the table can tell).
    pub fn loads(&self) -> bool {
        self.hparams_refusal.is_none()
            && self.tensors_refusal.is_none()
            && self.graph_refusal.is_none()
            && self.problems.is_empty()
            && self.unexpected.is_empty()
    }
}

/// A model: a parsed file read once by the architecture table.
#[derive(Debug)]
pub struct Model<'g, 'a> {
    gguf: &'g Gguf<'a>,
    architecture: String,
    run: Loaded,
    facts: ArchFacts,
    config: Option<ModelConfig>,
    index: TensorIndex,
    in_table: bool,
}

impl<'g, 'a> Model<'g, 'a> {
    /// Reads a parsed file. An architecture the table holds is run through llama.cpp's
    /// loader code (its tensors against the file, or for a vocab-only file the layout
    /// llama.cpp requires); one it does not hold through llama.cpp's architecture-independent
    /// code only. Fails when the file has no architecture, or when llama.cpp's hyper-parameter
    /// code refuses the file (the refusal, with its llama.cpp line).
    pub fn new(gguf: &'g Gguf<'a>) -> Result<Self, ArchError> {
        let architecture = gguf
            .metadata()
            .get_str(crate::keys::GENERAL_ARCHITECTURE)
            .ok()
            .flatten()
            .ok_or(ArchError::NoArchitecture)?
            .to_string();
        let in_table = table::table().holds(&architecture);
        let run = if in_table {
            let mode = if gguf.tensors().is_empty() {
                TensorMode::Required
            } else {
                TensorMode::File
            };
            table::load(gguf, &architecture, mode)
        } else {
            table::load_generic(gguf, &architecture)
        }
        .map_err(|e| {
            ArchError::Inconsistent(Inconsistency::Refused {
                message: e.to_string(),
                at: "the architecture table".into(),
            })
        })?;
        if let Some(r) = run.hparams_refusal.as_ref().filter(|r| !r.table_error) {
            return Err(ArchError::Inconsistent(Inconsistency::Refused {
                message: r.message.clone(),
                at: r.source.clone(),
            }));
        }
        let facts = ArchFacts::from_loaded(gguf, &run);
        let config =
            crate::arch::lookup(&architecture).and_then(|_| ModelConfig::from_gguf(gguf).ok());
        Ok(Self {
            index: TensorIndex::new(gguf),
            gguf,
            architecture,
            run,
            facts,
            config,
            in_table,
        })
    }

    /// The parsed file.
    pub fn gguf(&self) -> &'g Gguf<'a> {
        self.gguf
    }

    /// `general.architecture`.
    pub fn architecture(&self) -> &str {
        &self.architecture
    }

    /// Whether the architecture table holds the architecture (else only the generic keys were
    /// read and nothing about tensors is known).
    pub fn in_table(&self) -> bool {
        self.in_table
    }

    /// The configuration as llama.cpp reads it.
    pub fn facts(&self) -> &ArchFacts {
        &self.facts
    }

    /// The Llama-shaped spec's configuration (`llama`, `qwen2`, `qwen3`, `phi3`, `gemma3`).
    pub fn config(&self) -> Option<&ModelConfig> {
        self.config.as_ref()
    }

    /// The table's run: hyper-parameters and every tensor llama.cpp's loader asked for.
    pub fn run(&self) -> &Loaded {
        &self.run
    }

    /// The file's tensors by block.
    pub fn index(&self) -> &TensorIndex {
        &self.index
    }

    /// The tensors of block `n`.
    pub fn block(&self, n: usize) -> impl Iterator<Item = &'g TensorInfo<'a>> + '_ {
        let tensors = self.gguf.tensors();
        self.index
            .blocks
            .get(n)
            .into_iter()
            .flatten()
            .filter_map(move |&i| tensors.get(i))
    }

    /// What llama.cpp's loader would refuse (validation against llama.cpp's own code).
    pub fn validate(&self) -> LoadCheck<'_> {
        LoadCheck {
            hparams_refusal: self.run.hparams_refusal.as_ref(),
            problems: &self.run.problems,
            tensors_refusal: self.run.tensors_refusal.as_ref(),
            graph_refusal: self.run.graph_refusal.as_ref(),
            unexpected: &self.run.unexpected,
            vocab_only: self.gguf.tensors().is_empty(),
        }
    }

    /// Whether a Llama pipeline can run it, and how.
    pub fn compat(&self) -> AdapterPlan {
        plan(self.gguf)
    }

    /// Compares with another model: through the Llama-shaped specs when both have one, else
    /// through what the table reads.
    pub fn compare(&self, other: &Model<'_, '_>) -> Comparison {
        match (&self.config, &other.config) {
            (Some(a), Some(b)) => compare((self.gguf, a), (other.gguf, b)),
            _ => compare_facts(self.side(), other.side()),
        }
    }

    /// What loading it costs, as llama.cpp allocates it; an error (why) when the
    /// configuration is too large to plan ([`crate::memory_implausible`]).
    pub fn memory(&self, options: MemoryOptions) -> Result<MemoryPlan, String> {
        let n_ctx = if options.n_ctx == 0 {
            u64::try_from(self.facts.context_length).unwrap_or(0)
        } else {
            options.n_ctx
        };
        if let Some(why) = crate::memory::implausible(&self.run, n_ctx) {
            return Err(why);
        }
        Ok(plan_memory_with(
            self.gguf,
            self.config.as_ref(),
            &self.run,
            options,
        ))
    }

    /// This model as one side of [`compare_facts`].
    pub fn side(&self) -> FactsSide<'_, 'g, 'a> {
        FactsSide {
            gguf: self.gguf,
            facts: &self.facts,
            loaded: &self.run,
        }
    }
}
