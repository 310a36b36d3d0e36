//! Not yet modelled: "pixtral".

use super::Family;

pub(super) static FAMILY: Family = Family {
    types: &[],
    hparams: |_, _, _| Ok(()),
    build: |_, t| Err(format!("the {t} encoder's graph is not modelled")),
};
