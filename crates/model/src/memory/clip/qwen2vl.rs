//! Not yet modelled: "qwen2vl_merger", "qwen2.5vl_merger".

use super::Family;

pub(super) static FAMILY: Family = Family {
    types: &[],
    hparams: |_, _, _| Ok(()),
    build: |_, t| Err(format!("the {t} encoder's graph is not modelled")),
};
