//! The archc interpreter: runs llama.cpp's loader code from the table against one file.

use std::rc::Rc;

use super::parse::{AssignOp, BinOp, Expr, Function, Interner, LValue, Stmt, StmtKind, Sym, UnOp};

/// A value of the language.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Not defined (an unknown name reads as an error).
    Undef,
    Null,
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Array(Vec<Value>),
    List(Vec<Value>),
    /// `LLM_TENSOR_X`: an index into the tensor-name table.
    TensorKind(u32),
    /// A tensor name built by `tn(…)`.
    Tn(TnValue),
    /// The result of `create_tensor`: index of the request.
    Tensor(u32),
    /// A file tensor looked up without being created (`get_tensor_meta`).
    Meta(Rc<str>),
    /// A lambda.
    Func(FuncRef),
}

/// A lambda value; equal only to itself.
#[derive(Debug, Clone)]
pub(crate) struct FuncRef(pub Rc<Function>);

impl PartialEq for FuncRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// A `tn(…)` value: the name's parts, the suffix an interned symbol ([`NO_SUFFIX`] when
/// there is none), so building and comparing one allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TnValue {
    pub kind: u32,
    pub suffix: Sym,
    pub bid: i64,
    pub xid: i64,
}

/// [`TnValue::suffix`] of a name without suffix.
pub(crate) const NO_SUFFIX: Sym = Sym::MAX;

impl Value {
    pub fn truthy(&self) -> bool {
        match self {
            Value::Undef | Value::Null => false,
            Value::Int(v) => *v != 0,
            Value::Float(v) => *v != 0.0,
            Value::Str(_)
            | Value::Array(_)
            | Value::List(_)
            | Value::TensorKind(_)
            | Value::Tn(_) => true,
            Value::Tensor(_) | Value::Meta(_) | Value::Func(_) => true,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            #[allow(clippy::cast_possible_truncation)]
            Value::Float(v) => Some(*v as i64),
            Value::Null => Some(0),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            #[allow(clippy::cast_precision_loss)]
            Value::Int(v) => Some(*v as f64),
            Value::Float(v) => Some(*v),
            _ => None,
        }
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stop {
    /// The loader throws (`throw`, a failed `GGML_ASSERT`, a missing required key…).
    Throw { message: String, line: u32 },
    /// The table could not be run (unknown name, type error, `unsupported(…)`).
    Error { message: String, line: u32 },
}

enum Flow {
    Normal,
    Break,
    Continue,
    Return(Value),
}

type R<T> = Result<T, Stop>;

/// A metadata value as the interpreter sees it.
#[derive(Debug, Clone)]
pub(crate) enum Meta {
    /// A value and its GGUF type name (`u32`, `f32`, `string`…).
    Scalar(Value, &'static str),
    /// Element GGUF type name (for llama.cpp's element-type checks) and the values.
    Array {
        elem: &'static str,
        values: Vec<Value>,
        len: usize,
    },
}

/// What the interpreter needs from the file.
pub(crate) trait Host {
    /// A metadata value by full key.
    fn meta(&self, key: &str) -> Option<Meta>;
    /// The shape of a tensor of the file, by name.
    fn tensor(&self, name: &str) -> Option<&[u64]>;
    /// The ggml type id of a tensor of the file.
    fn tensor_type(&self, name: &str) -> Option<i64>;
}

/// One `create_tensor` call as it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorRequest {
    /// The tensor name.
    pub name: String,
    /// The shape llama.cpp asks for (ggml `ne` order; a dimension may be ≤ 0 for an optional
    /// tensor whose formula does not apply).
    pub shape: Vec<i64>,
    /// `TENSOR_*` flags.
    pub flags: i64,
    /// Layer index (`bid`), -1 for a global tensor.
    pub layer: i64,
    /// Whether the file has a tensor of that name.
    pub present: bool,
    /// Whether llama.cpp created it (present, right shape; skipped and unused tensors count as
    /// created but are not loaded).
    pub created: bool,
    /// The tensor is present with another shape.
    pub shape_mismatch: Option<Vec<u64>>,
    /// llama.cpp reads it but does not use it (`TENSOR_SKIP`, or an op of `none`).
    pub unused: bool,
    /// Line of the table body (a llama.cpp source line) that asked for it.
    pub line: u32,
    /// The llama.cpp source file of that line.
    pub file: Rc<str>,
    /// Index into the tensor-name table (`LLM_TENSOR_*`).
    pub kind: u32,
}

/// A finding of a run: what llama.cpp's loader would refuse.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadProblem {
    /// What.
    pub message: String,
    /// The tensor or key it is about.
    pub subject: Option<String>,
    /// The llama.cpp source line.
    pub line: u32,
    /// The llama.cpp source file.
    pub file: Rc<str>,
    /// `missing_tensor`, `wrong_shape`, `throw`, `table_error`.
    pub code: &'static str,
}

/// The tensor phase's view of the file: answer `has`/shape from the file, or (for a file
/// without tensors) as if every required tensor were present with its expected shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorMode {
    /// The file's own tensor table.
    File,
    /// Every required tensor present, optional ones absent (the layout a vocab-only file
    /// implies).
    Required,
}

/// A value the table names (`@consts`, `@keys`, `@tensor_names`, `@archs`), bound to the
/// run's globals when a parsed body first uses the name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Lit {
    Int(i64),
    Float(f64),
    Str(&'static str),
    TensorKind(u32),
}

impl Lit {
    fn value(self) -> Value {
        match self {
            Lit::Int(v) => Value::Int(v),
            Lit::Float(v) => Value::Float(v),
            Lit::Str(s) => Value::Str(Rc::from(s)),
            Lit::TensorKind(k) => Value::TensorKind(k),
        }
    }
}

pub(crate) struct Tables {
    pub tensor_fmt: Vec<&'static str>,
    pub tensor_op_none: Vec<bool>,
    pub tensor_layer: Vec<u8>,
    pub flag_not_required: i64,
    pub flag_duplicated: i64,
    pub flag_skip: i64,
    pub flag_allow_reshape: i64,
}

pub(crate) struct Interp<'h> {
    pub interner: Interner,
    pub globals: Vec<Value>,
    locals: Vec<(Sym, Value)>,
    frame_base: usize,
    pub functions: rustc_hash::FxHashMap<Sym, Rc<Function>>,
    /// `@fn` sections not parsed yet: body, first line, source file.
    pub lazy_functions: rustc_hash::FxHashMap<Sym, (&'static str, u32, &'static str)>,
    pub host: &'h dyn Host,
    pub prefix: String,
    pub tables: Tables,
    pub requests: Vec<TensorRequest>,
    /// Names of the tensors created with a handle (not skipped, not unused).
    created_names: rustc_hash::FxHashSet<String>,
    /// The same tensors by `tn(…)` parts.
    created_tns: rustc_hash::FxHashSet<TnValue>,
    /// Layer slots holding another block's tensors (`layer_slot`, `copy_layer`): slot → block.
    slot_block: rustc_hash::FxHashMap<i64, i64>,
    pub problems: Vec<LoadProblem>,
    pub tensor_mode: TensorMode,
    pub n_created: usize,
    /// The architecture's `@tensors` body, run by `load_arch_tensors()`.
    pub arch_tensors: Option<Rc<Vec<Stmt>>>,
    /// Inside `try`: a missing required tensor throws instead of being recorded.
    in_try: u32,
    /// The llama.cpp file of the body being run.
    pub cur_file: Rc<str>,
    /// The file of the architecture's `@tensors` body.
    pub arch_file: Rc<str>,
    depth: u32,
    steps: u64,
    /// The base line of the body being run, to turn token lines into source lines.
    pub line_base: i64,
    /// The table's named values ([`Lit`]).
    named: &'h rustc_hash::FxHashMap<&'static str, Lit>,
    /// Symbols below this have been checked against `named`.
    bound_upto: usize,
}

const MAX_STEPS: u64 = 50_000_000;

impl<'h> Interp<'h> {
    pub fn new(
        interner: Interner,
        host: &'h dyn Host,
        prefix: String,
        tables: Tables,
        named: &'h rustc_hash::FxHashMap<&'static str, Lit>,
    ) -> Self {
        Self {
            globals: Vec::new(),
            interner,
            locals: Vec::new(),
            frame_base: 0,
            functions: rustc_hash::FxHashMap::default(),
            lazy_functions: rustc_hash::FxHashMap::default(),
            host,
            prefix,
            tables,
            requests: Vec::new(),
            created_names: rustc_hash::FxHashSet::default(),
            created_tns: rustc_hash::FxHashSet::default(),
            slot_block: rustc_hash::FxHashMap::default(),
            problems: Vec::new(),
            tensor_mode: TensorMode::File,
            n_created: 0,
            arch_tensors: None,
            in_try: 0,
            cur_file: Rc::from(""),
            arch_file: Rc::from(""),
            depth: 0,
            steps: 0,
            line_base: 0,
            named,
            bound_upto: 0,
        }
    }

    /// Binds the table's named values for every symbol interned since the last call (each
    /// parse of a body), unless the symbol already holds a value.
    pub fn bind_named(&mut self) {
        let n = self.interner.len();
        for i in self.bound_upto..n {
            let Ok(sym) = Sym::try_from(i) else { break };
            let Some(lit) = self.named.get(self.interner.name(sym)).copied() else {
                continue;
            };
            if self.globals.get(i).is_none_or(|v| *v == Value::Undef) {
                self.set_global(sym, lit.value());
            }
        }
        self.bound_upto = n;
    }

    fn src_line(&self, line: u32) -> u32 {
        u32::try_from(i64::from(line) + self.line_base).unwrap_or(line)
    }

    fn err<T>(&self, line: u32, message: impl Into<String>) -> R<T> {
        Err(Stop::Error {
            message: message.into(),
            line: self.src_line(line),
        })
    }

    fn throw<T>(&self, line: u32, message: impl Into<String>) -> R<T> {
        Err(Stop::Throw {
            message: message.into(),
            line: self.src_line(line),
        })
    }

    pub fn set_global(&mut self, sym: Sym, v: Value) {
        let i = sym as usize;
        if self.globals.len() <= i {
            self.globals.resize(i + 1, Value::Undef);
        }
        if let Some(slot) = self.globals.get_mut(i) {
            *slot = v;
        }
    }

    pub fn global(&self, name: &str) -> Option<&Value> {
        let sym = self.interner.get(name)?;
        self.globals
            .get(sym as usize)
            .filter(|v| **v != Value::Undef)
    }

    fn lookup(&self, sym: Sym) -> Option<&Value> {
        if let Some((_, v)) = self
            .locals
            .get(self.frame_base..)
            .and_then(|l| l.iter().rev().find(|(s, _)| *s == sym))
        {
            return Some(v);
        }
        self.globals
            .get(sym as usize)
            .filter(|v| **v != Value::Undef)
    }

    fn slot_mut(&mut self, sym: Sym) -> &mut Value {
        let base = self.frame_base;
        if let Some(pos) = self
            .locals
            .get(base..)
            .and_then(|l| l.iter().rposition(|(s, _)| *s == sym))
        {
            if let Some((_, v)) = self.locals.get_mut(base + pos) {
                return v;
            }
        }
        let i = sym as usize;
        if self.globals.len() <= i {
            self.globals.resize(i + 1, Value::Undef);
        }
        // `i` is in bounds after the resize.
        let len = self.globals.len();
        let idx = i.min(len.saturating_sub(1));
        #[allow(clippy::indexing_slicing)]
        &mut self.globals[idx]
    }

    /// Runs a body with fresh locals (a C++ function body).
    pub fn run_body(&mut self, body: &[Stmt]) -> R<()> {
        self.locals.clear();
        self.frame_base = 0;
        let mut result = Ok(());
        for s in body {
            match self.stmt(s) {
                Ok(Flow::Normal) => {}
                Ok(Flow::Return(_)) => break,
                Ok(Flow::Break | Flow::Continue) => {
                    result = self.err(s.line, "break outside a loop");
                    break;
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.locals.clear();
        result
    }

    fn block(&mut self, stmts: &[Stmt]) -> R<Flow> {
        let mark = self.locals.len();
        let mut flow = Flow::Normal;
        for s in stmts {
            flow = self.stmt(s)?;
            if !matches!(flow, Flow::Normal) {
                break;
            }
        }
        self.locals.truncate(mark);
        Ok(flow)
    }

    fn stmt(&mut self, s: &Stmt) -> R<Flow> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return self.err(s.line, "step limit exceeded");
        }
        match &s.kind {
            StmtKind::Empty => Ok(Flow::Normal),
            StmtKind::Block(v) => self.block(v),
            StmtKind::If(c, a, b) => {
                if self.eval(c)?.truthy() {
                    self.scoped(a)
                } else if let Some(b) = b {
                    self.scoped(b)
                } else {
                    Ok(Flow::Normal)
                }
            }
            StmtKind::For {
                init,
                cond,
                step,
                body,
            } => {
                let mark = self.locals.len();
                if let Some(i) = init {
                    self.stmt(i)?;
                }
                let result = loop {
                    if let Some(c) = cond {
                        if !self.eval(c)?.truthy() {
                            break Flow::Normal;
                        }
                    }
                    match self.scoped(body)? {
                        Flow::Break => break Flow::Normal,
                        Flow::Return(v) => break Flow::Return(v),
                        Flow::Normal | Flow::Continue => {}
                    }
                    if let Some(st) = step {
                        self.stmt(st)?;
                    }
                    self.steps += 1;
                    if self.steps > MAX_STEPS {
                        return self.err(s.line, "step limit exceeded");
                    }
                };
                self.locals.truncate(mark);
                Ok(result)
            }
            StmtKind::While(c, body) => {
                while self.eval(c)?.truthy() {
                    match self.scoped(body)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Normal | Flow::Continue => {}
                    }
                    self.steps += 1;
                    if self.steps > MAX_STEPS {
                        return self.err(s.line, "step limit exceeded");
                    }
                }
                Ok(Flow::Normal)
            }
            StmtKind::Break => Ok(Flow::Break),
            StmtKind::Continue => Ok(Flow::Continue),
            StmtKind::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e)?,
                    None => Value::Null,
                };
                Ok(Flow::Return(v))
            }
            StmtKind::Decl(vars) => {
                for (sym, init) in vars {
                    let v = match init {
                        Some(e) => self.eval(e)?,
                        None => Value::Int(0),
                    };
                    self.locals.push((*sym, v));
                }
                Ok(Flow::Normal)
            }
            StmtKind::Assign(lv, op, e) => {
                let v = self.eval(e)?;
                self.assign(lv, *op, v, s.line)?;
                Ok(Flow::Normal)
            }
            StmtKind::Expr(e) => {
                self.eval(e)?;
                Ok(Flow::Normal)
            }
            StmtKind::Try(body, handler) => {
                self.in_try += 1;
                let problems = self.problems.len();
                let requests = self.requests.len();
                let created = self.n_created;
                let r = self.scoped(body);
                self.in_try -= 1;
                match r {
                    Err(Stop::Throw { .. }) => {
                        // The try block's partial effects are dropped, as llama.cpp's throw
                        // leaves them unused.
                        self.problems.truncate(problems);
                        self.requests.truncate(requests);
                        self.created_names = self
                            .requests
                            .iter()
                            .filter(|r| r.created && !r.unused)
                            .map(|r| r.name.clone())
                            .collect();
                        let names = &self.created_names;
                        let tables = &self.tables;
                        let interner = &self.interner;
                        self.created_tns.retain(|t| {
                            names.contains(&tn_string(&tables.tensor_fmt, interner, t))
                        });
                        self.n_created = created;
                        self.scoped(handler)
                    }
                    other => other,
                }
            }
            StmtKind::Throw(e) => {
                let v = self.eval(e)?;
                let msg = match v {
                    Value::Str(s) => s.to_string(),
                    other => format!("{other:?}"),
                };
                self.throw(s.line, msg)
            }
        }
    }

    fn scoped(&mut self, s: &Stmt) -> R<Flow> {
        let mark = self.locals.len();
        let r = self.stmt(s);
        self.locals.truncate(mark);
        r
    }

    fn assign(&mut self, lv: &LValue, op: AssignOp, v: Value, line: u32) -> R<()> {
        match lv {
            LValue::Name(sym) => {
                let new = if op == AssignOp::Set {
                    v
                } else {
                    let cur = self.lookup(*sym).cloned().unwrap_or(Value::Int(0));
                    self.apply_assign_op(op, &cur, &v, line)?
                };
                *self.slot_mut(*sym) = new;
            }
            LValue::Index(sym, idx) => {
                let i = self.eval(idx)?;
                let i = i
                    .as_i64()
                    .and_then(|i| usize::try_from(i).ok())
                    .ok_or_else(|| self.mk_err(line, "bad array index"))?;
                let cur = match self.lookup(*sym) {
                    Some(Value::Array(a)) => a.get(i).cloned(),
                    _ => None,
                };
                let Some(cur) = cur else {
                    let name = self.interner.name(*sym).to_string();
                    return self.err(
                        line,
                        format!("`{name}[{i}]` is out of range or not an array"),
                    );
                };
                let new = if op == AssignOp::Set {
                    v
                } else {
                    self.apply_assign_op(op, &cur, &v, line)?
                };
                if let Value::Array(a) = self.slot_mut(*sym) {
                    if let Some(slot) = a.get_mut(i) {
                        *slot = new;
                    }
                }
            }
        }
        Ok(())
    }

    fn mk_err(&self, line: u32, m: &str) -> Stop {
        Stop::Error {
            message: m.to_string(),
            line: self.src_line(line),
        }
    }

    fn apply_assign_op(&self, op: AssignOp, a: &Value, b: &Value, line: u32) -> R<Value> {
        let bop = match op {
            AssignOp::Set => return Ok(b.clone()),
            AssignOp::Add => BinOp::Add,
            AssignOp::Sub => BinOp::Sub,
            AssignOp::Mul => BinOp::Mul,
            AssignOp::Div => BinOp::Div,
            AssignOp::Rem => BinOp::Rem,
            AssignOp::Or => BinOp::BitOr,
            AssignOp::And => BinOp::BitAnd,
            AssignOp::Xor => BinOp::BitXor,
            AssignOp::Shl => BinOp::Shl,
            AssignOp::Shr => BinOp::Shr,
        };
        self.binop(bop, a, b, line)
    }

    pub fn eval(&mut self, e: &Expr) -> R<Value> {
        match e {
            Expr::Int(v) => Ok(Value::Int(*v)),
            Expr::Float(v) => Ok(Value::Float(*v)),
            Expr::Str(s) => Ok(Value::Str(s.clone())),
            Expr::Null => Ok(Value::Null),
            Expr::Name(sym, line) => match self.lookup(*sym) {
                Some(v) => Ok(v.clone()),
                None => {
                    // A function called without parentheses is not C; an unknown name is a
                    // table error.
                    let name = self.interner.name(*sym).to_string();
                    self.err(*line, format!("unknown name `{name}`"))
                }
            },
            Expr::List(items) => {
                let mut v = Vec::with_capacity(items.len());
                for i in items {
                    v.push(self.eval(i)?);
                }
                Ok(Value::List(v))
            }
            Expr::Index(a, i) => {
                let idx = self.eval(i)?;
                // Indexing a variable reads one element, without copying the array.
                if let Expr::Name(sym, line) = &**a {
                    let idx = idx.as_i64().and_then(|i| usize::try_from(i).ok());
                    return match (self.lookup(*sym), idx) {
                        (Some(Value::Array(v) | Value::List(v)), Some(i)) => match v.get(i) {
                            Some(x) => Ok(x.clone()),
                            None => self.err(*line, "array index out of range"),
                        },
                        _ => {
                            let name = self.interner.name(*sym).to_string();
                            self.err(*line, format!("`{name}` is not an array"))
                        }
                    };
                }
                let arr = self.eval(a)?;
                let idx = idx.as_i64().and_then(|i| usize::try_from(i).ok());
                match (arr, idx) {
                    (Value::Array(v) | Value::List(v), Some(i)) => v
                        .get(i)
                        .cloned()
                        .ok_or_else(|| self.mk_err(0, "array index out of range")),
                    _ => self.err(0, "indexing a value that is not an array"),
                }
            }
            Expr::Unary(op, a) => {
                let v = self.eval(a)?;
                match op {
                    UnOp::Not => Ok(Value::Int(i64::from(!v.truthy()))),
                    UnOp::Neg => match v {
                        Value::Int(x) => Ok(Value::Int(x.wrapping_neg())),
                        Value::Float(x) => Ok(Value::Float(-x)),
                        _ => self.err(0, "negating a value that is not a number"),
                    },
                    UnOp::BitNot => Ok(Value::Int(!v.as_i64().unwrap_or(0))),
                }
            }
            Expr::Binary(op, a, b) => {
                if *op == BinOp::And {
                    let l = self.eval(a)?;
                    if !l.truthy() {
                        return Ok(Value::Int(0));
                    }
                    return Ok(Value::Int(i64::from(self.eval(b)?.truthy())));
                }
                if *op == BinOp::Or {
                    let l = self.eval(a)?;
                    if l.truthy() {
                        return Ok(Value::Int(1));
                    }
                    return Ok(Value::Int(i64::from(self.eval(b)?.truthy())));
                }
                let l = self.eval(a)?;
                let r = self.eval(b)?;
                self.binop(*op, &l, &r, 0)
            }
            Expr::Cond(c, a, b) => {
                if self.eval(c)?.truthy() {
                    self.eval(a)
                } else {
                    self.eval(b)
                }
            }
            Expr::ToFloat(a) => {
                let v = self.eval(a)?;
                Ok(Value::Float(v.as_f64().unwrap_or(0.0)))
            }
            Expr::ToInt(a) => {
                let v = self.eval(a)?;
                match v {
                    Value::Float(_) | Value::Int(_) | Value::Null => {
                        Ok(Value::Int(v.as_i64().unwrap_or(0)))
                    }
                    other => Ok(other),
                }
            }
            Expr::Call(sym, args, line) => self.call(*sym, args, *line),
            Expr::Lambda(f) => Ok(Value::Func(FuncRef(f.clone()))),
        }
    }

    fn binop(&self, op: BinOp, l: &Value, r: &Value, line: u32) -> R<Value> {
        use BinOp::*;
        // Strings.
        if let (Value::Str(a), Value::Str(b)) = (l, r) {
            return match op {
                Eq => Ok(Value::Int(i64::from(a == b))),
                Ne => Ok(Value::Int(i64::from(a != b))),
                Add => Ok(Value::Str(Rc::from(format!("{a}{b}").as_str()))),
                _ => self.err(line, "operator on strings"),
            };
        }
        if let (Value::Str(a), b) = (l, r) {
            if op == Add {
                let b = match b {
                    Value::Int(v) => v.to_string(),
                    other => format!("{other:?}"),
                };
                return Ok(Value::Str(Rc::from(format!("{a}{b}").as_str())));
            }
        }
        // Null compares with handles.
        if matches!(op, Eq | Ne) {
            let is_ptr = |v: &Value| matches!(v, Value::Null | Value::Tensor(_) | Value::Meta(_));
            if is_ptr(l) || is_ptr(r) {
                let eq = l.truthy() == r.truthy() && (l == r || (!l.truthy() && !r.truthy()));
                return Ok(Value::Int(i64::from(if op == Eq { eq } else { !eq })));
            }
        }
        let float = matches!(l, Value::Float(_)) || matches!(r, Value::Float(_));
        if float {
            let (Some(a), Some(b)) = (l.as_f64(), r.as_f64()) else {
                return self.err(line, format!("operator on non-numbers {l:?} {r:?}"));
            };
            return Ok(match op {
                Mul => Value::Float(a * b),
                Div => Value::Float(a / b),
                Add => Value::Float(a + b),
                Sub => Value::Float(a - b),
                Lt => Value::Int(i64::from(a < b)),
                Le => Value::Int(i64::from(a <= b)),
                Gt => Value::Int(i64::from(a > b)),
                Ge => Value::Int(i64::from(a >= b)),
                Eq => Value::Int(i64::from(a == b)),
                Ne => Value::Int(i64::from(a != b)),
                _ => return self.err(line, "integer operator on floats"),
            });
        }
        let (Some(a), Some(b)) = (l.as_i64(), r.as_i64()) else {
            return self.err(line, format!("operator on non-numbers {l:?} {r:?}"));
        };
        Ok(Value::Int(match op {
            Mul => a.wrapping_mul(b),
            Div => {
                if b == 0 {
                    return self.throw(line, "integer division by zero");
                }
                a.wrapping_div(b)
            }
            Rem => {
                if b == 0 {
                    return self.throw(line, "integer modulo by zero");
                }
                a.wrapping_rem(b)
            }
            Add => a.wrapping_add(b),
            Sub => a.wrapping_sub(b),
            Shl => a.wrapping_shl(u32::try_from(b).unwrap_or(0)),
            Shr => a.wrapping_shr(u32::try_from(b).unwrap_or(0)),
            Lt => i64::from(a < b),
            Le => i64::from(a <= b),
            Gt => i64::from(a > b),
            Ge => i64::from(a >= b),
            Eq => i64::from(a == b),
            Ne => i64::from(a != b),
            BitAnd => a & b,
            BitXor => a ^ b,
            BitOr => a | b,
            // `eval` short-circuits these; on two evaluated values they are plain logic.
            And => i64::from(a != 0 && b != 0),
            Or => i64::from(a != 0 || b != 0),
        }))
    }

    fn call(&mut self, sym: Sym, args: &[Expr], line: u32) -> R<Value> {
        if let Some(Value::Func(f)) = self.lookup(sym) {
            let f = f.0.clone();
            return self.call_lambda(&f, args, line);
        }
        if let Some((body, first, file)) = self.lazy_functions.remove(&sym) {
            let parsed =
                super::parse::Parser::new(body, first, &mut self.interner).and_then(|mut p| {
                    let mut fns = Vec::new();
                    while !p.at_end() {
                        fns.push(p.function()?);
                    }
                    Ok(fns)
                });
            match parsed {
                Ok(fns) => {
                    for (name, mut f) in fns {
                        f.file = Some(Rc::from(file));
                        let s = self.interner.intern(&name);
                        self.functions.insert(s, Rc::new(f));
                    }
                    self.bind_named();
                }
                Err((l, m)) => return self.err(line, format!("@fn {file}:{l}: {m}")),
            }
        }
        if let Some(f) = self.functions.get(&sym).cloned() {
            return self.call_fn(&f, args, line);
        }
        let name = self.interner.name_rc(sym);
        self.builtin(&name, args, line)
    }

    fn call_fn(&mut self, f: &Function, args: &[Expr], line: u32) -> R<Value> {
        if self.depth > 64 {
            return self.err(line, "call depth exceeded");
        }
        let mut vals = Vec::with_capacity(f.params.len());
        for (i, (p, default)) in f.params.iter().enumerate() {
            let v = match (args.get(i), default) {
                (Some(a), _) => self.eval(a)?,
                (None, Some(d)) => self.eval(d)?,
                (None, None) => return self.err(line, "missing argument"),
            };
            vals.push((*p, v));
        }
        let saved_base = self.frame_base;
        let saved_file = self.cur_file.clone();
        if let Some(file) = &f.file {
            self.cur_file = file.clone();
        }
        let mark = self.locals.len();
        self.frame_base = mark;
        self.locals.extend(vals);
        self.depth += 1;
        let result = self.run_function_body(&f.body);
        self.depth -= 1;
        self.locals.truncate(mark);
        self.frame_base = saved_base;
        self.cur_file = saved_file;
        result
    }

    /// Runs a function's statements: its `return` value, `null` when it ends without one.
    fn run_function_body(&mut self, body: &[Stmt]) -> R<Value> {
        for s in body {
            match self.stmt(s)? {
                Flow::Normal => {}
                Flow::Return(v) => return Ok(v),
                Flow::Break | Flow::Continue => break,
            }
        }
        Ok(Value::Null)
    }

    /// A lambda sees the enclosing locals (captured by reference): no new frame.
    fn call_lambda(&mut self, f: &Function, args: &[Expr], line: u32) -> R<Value> {
        if self.depth > 64 {
            return self.err(line, "call depth exceeded");
        }
        let mut vals = Vec::with_capacity(f.params.len());
        for (i, (p, _)) in f.params.iter().enumerate() {
            let v = match args.get(i) {
                Some(a) => self.eval(a)?,
                None => return self.err(line, "missing argument"),
            };
            vals.push((*p, v));
        }
        let mark = self.locals.len();
        self.locals.extend(vals);
        self.depth += 1;
        let result = self.run_function_body(&f.body);
        self.depth -= 1;
        self.locals.truncate(mark);
        result
    }

    fn arg(&mut self, args: &[Expr], i: usize, line: u32) -> R<Value> {
        match args.get(i) {
            Some(a) => self.eval(a),
            None => self.err(line, "missing argument"),
        }
    }

    fn opt_arg(&mut self, args: &[Expr], i: usize, default: Value) -> R<Value> {
        match args.get(i) {
            Some(a) => self.eval(a),
            None => Ok(default),
        }
    }

    fn key_arg(&mut self, args: &[Expr], line: u32) -> R<String> {
        match self.arg(args, 0, line)? {
            Value::Str(fmt) => Ok(fmt.replace("%s", &self.prefix)),
            other => self.err(line, format!("a key must be a string, got {other:?}")),
        }
    }

    fn lv_sym(&self, args: &[Expr], i: usize, line: u32) -> R<LValue> {
        match args.get(i) {
            Some(Expr::Name(s, _)) => Ok(LValue::Name(*s)),
            Some(Expr::Index(a, idx)) => match &**a {
                Expr::Name(s, _) => Ok(LValue::Index(*s, (**idx).clone())),
                _ => self.err(line, "argument must be a variable"),
            },
            _ => self.err(line, "argument must be a variable"),
        }
    }

    fn builtin(&mut self, name: &str, args: &[Expr], line: u32) -> R<Value> {
        match name {
            "get_key" => {
                let key = self.key_arg(args, line)?;
                let lv = self.lv_sym(args, 1, line)?;
                let required = self.opt_arg(args, 2, Value::Int(1))?.truthy();
                let sym = lv_sym_of(&lv);
                // `get_key(kid, enum llama_pooling_type &)` reads a u32 and sets UNSPECIFIED
                // when the key is absent (src/llama-model-loader.cpp:445-455).
                let pooling =
                    matches!(self.interner.name(sym), "pooling_type" | "pooling_type_cls");
                let expected = if pooling {
                    Some("u32")
                } else {
                    self.interner.types.get(&sym).copied()
                };
                match self.host.meta(&key) {
                    None => {
                        if pooling && !required {
                            self.assign(&lv, AssignOp::Set, Value::Int(-1), line)?;
                        }
                        self.key_absent(&key, required, "key", line)
                    }
                    Some(Meta::Scalar(v, ty)) => {
                        self.check_type(&key, ty, expected, line)?;
                        let v = coerce(self.lookup(lv_sym_of(&lv)), v);
                        self.assign(&lv, AssignOp::Set, v, line)?;
                        Ok(Value::Int(1))
                    }
                    Some(Meta::Array { .. }) => {
                        // An array read into a scalar: GGUFMeta's type check throws.
                        self.throw(line, format!("key {key} has wrong type array"))
                    }
                }
            }
            "get_key_or_arr" => {
                let key = self.key_arg(args, line)?;
                let lv = self.lv_sym(args, 1, line)?;
                if args.len() <= 3 && self.lv_array_len(&lv).is_none() {
                    // The scalar overload: an array value is refused.
                    let required = self.opt_arg(args, 2, Value::Int(1))?.truthy();
                    return match self.host.meta(&key) {
                        None => self.key_absent(&key, required, "key", line),
                        Some(Meta::Array { .. }) if required => {
                            self.throw(line, format!("expected scalar, found array for key: {key}"))
                        }
                        Some(Meta::Array { .. }) => Ok(Value::Int(0)),
                        Some(Meta::Scalar(v, ty)) => {
                            let expected = self.interner.types.get(&lv_sym_of(&lv)).copied();
                            self.check_type(&key, ty, expected, line)?;
                            let v = coerce(self.lookup(lv_sym_of(&lv)), v);
                            self.assign(&lv, AssignOp::Set, v, line)?;
                            Ok(Value::Int(1))
                        }
                    };
                }
                let n = self.arg(args, 2, line)?.as_i64().unwrap_or(0);
                let required = self.opt_arg(args, 3, Value::Int(1))?.truthy();
                let Some(n_max) = self.lv_array_len(&lv) else {
                    return self.err(line, "get_key_or_arr needs an array");
                };
                match self.host.meta(&key) {
                    None => self.key_absent(&key, required, "key", line),
                    Some(meta) => {
                        let n = usize::try_from(n).unwrap_or(0);
                        if n > n_max {
                            return self
                                .throw(line, format!("n > N_MAX: {n} > {n_max} for key {key}"));
                        }
                        match meta {
                            Meta::Array { len, .. } if len != n => self.throw(
                                line,
                                format!(
                                    "key {key} has wrong array length; expected {n}, got {len}"
                                ),
                            ),
                            Meta::Array { values, elem, .. } => {
                                let expected = self.interner.types.get(&lv_sym_of(&lv)).copied();
                                self.check_array_type(&key, elem, expected, line)?;
                                self.copy_into(&lv, values, line)?;
                                Ok(Value::Int(1))
                            }
                            Meta::Scalar(v, ty) => {
                                let expected = self.interner.types.get(&lv_sym_of(&lv)).copied();
                                self.check_type(&key, ty, expected, line)?;
                                self.copy_into(&lv, vec![v; n], line)?;
                                Ok(Value::Int(1))
                            }
                        }
                    }
                }
            }
            "get_arr" => {
                let key = self.key_arg(args, line)?;
                let lv = self.lv_sym(args, 1, line)?;
                let required = self.opt_arg(args, 2, Value::Int(1))?.truthy();
                match self.host.meta(&key) {
                    Some(Meta::Array { values, len, elem }) => {
                        // `array(0, v)` is a std::vector: it takes any length.
                        let n_max = match self.lv_array_len(&lv) {
                            Some(n) if n > 0 => n,
                            _ => usize::MAX,
                        };
                        let expected = self.interner.types.get(&lv_sym_of(&lv)).copied();
                        if n_max == usize::MAX && elem == "bool" {
                            // The std::vector overload has no BOOL case
                            // (src/llama-model-loader.cpp:320-328), the std::array one has
                            // (365-369).
                            return self.throw(
                                line,
                                format!("{key} is not a string/float32/uint32/int32/uint64 array"),
                            );
                        }
                        self.check_array_type(&key, elem, expected, line)?;

                        if len > n_max {
                            return self.throw(
                                line,
                                format!("array length {len} for key {key} exceeds max {n_max}"),
                            );
                        }
                        if n_max == usize::MAX {
                            self.assign(&lv, AssignOp::Set, Value::Array(values), line)?;
                        } else {
                            self.copy_into(&lv, values, line)?;
                        }
                        Ok(Value::Int(1))
                    }
                    _ => self.key_absent(&key, required, "array key", line),
                }
            }
            "get_arr_n" => {
                let key = self.key_arg(args, line)?;
                let lv = self.lv_sym(args, 1, line)?;
                let required = self.opt_arg(args, 2, Value::Int(1))?.truthy();
                match self.host.meta(&key) {
                    Some(Meta::Array { len, .. }) => {
                        let n = i64::try_from(len).unwrap_or(i64::MAX);
                        self.assign(&lv, AssignOp::Set, Value::Int(n), line)?;
                        Ok(Value::Int(1))
                    }
                    _ => self.key_absent(&key, required, "array key", line),
                }
            }
            "fill" => {
                let lv = self.lv_sym(args, 0, line)?;
                let v = self.arg(args, 1, line)?;
                let Some(n) = self.lv_array_len(&lv) else {
                    return self.err(line, "fill needs an array");
                };
                // In place: std::fill over the array the name holds.
                if let LValue::Name(sym) = lv {
                    if let Value::Array(a) = self.slot_mut(sym) {
                        a.fill(v);
                        return Ok(Value::Null);
                    }
                }
                self.assign(&lv, AssignOp::Set, Value::Array(vec![v; n]), line)?;
                Ok(Value::Null)
            }
            "array" => {
                let n = self.arg(args, 0, line)?.as_i64().unwrap_or(0);
                let v = self.opt_arg(args, 1, Value::Int(0))?;
                let n = usize::try_from(n).unwrap_or(0).min(1 << 16);
                Ok(Value::Array(vec![v; n]))
            }
            "min" | "max" => {
                let a = self.arg(args, 0, line)?;
                let b = self.arg(args, 1, line)?;
                let lt = self.binop(BinOp::Lt, &a, &b, line)?.truthy();
                Ok(if (name == "min") == lt { a } else { b })
            }
            "sqrt" | "abs" | "log" | "fabs" | "floor" | "ceil" | "log2" => {
                let a = self.arg(args, 0, line)?;
                if let (Value::Int(v), "abs") = (&a, name) {
                    return Ok(Value::Int(v.wrapping_abs()));
                }
                let x = a.as_f64().unwrap_or(0.0);
                Ok(Value::Float(match name {
                    "sqrt" => x.sqrt(),
                    "log" => x.ln(),
                    "log2" => x.log2(),
                    "floor" => x.floor(),
                    "ceil" => x.ceil(),
                    _ => x.abs(),
                }))
            }
            "pow" | "powf" => {
                let a = self.arg(args, 0, line)?.as_f64().unwrap_or(0.0);
                let b = self.arg(args, 1, line)?.as_f64().unwrap_or(0.0);
                Ok(Value::Float(a.powf(b)))
            }
            "to_string" => {
                let a = self.arg(args, 0, line)?;
                Ok(Value::Str(Rc::from(
                    match a {
                        Value::Int(v) => v.to_string(),
                        Value::Float(v) => format!("{v:.6}"),
                        Value::Str(s) => s.to_string(),
                        other => format!("{other:?}"),
                    }
                    .as_str(),
                )))
            }
            "format" => {
                let f = self.arg(args, 0, line)?;
                let mut rest = Vec::new();
                for i in 1..args.len() {
                    rest.push(self.arg(args, i, line)?);
                }
                let Value::Str(f) = f else {
                    return self.err(line, "format needs a string");
                };
                Ok(Value::Str(Rc::from(cformat(&f, &rest).as_str())))
            }
            "rope_scaling_type_from_string" | "llama_rope_scaling_type_from_string" => {
                let s = self.arg(args, 0, line)?;
                // LLAMA_ROPE_SCALING_TYPE_{UNSPECIFIED=-1, NONE, LINEAR, YARN, LONGROPE}
                // (include/llama.h), names from LLAMA_ROPE_SCALING_TYPES (src/llama-model.cpp).
                let v = match &s {
                    Value::Str(s) => match &**s {
                        "none" => 0,
                        "linear" => 1,
                        "yarn" => 2,
                        "longrope" => 3,
                        _ => -1,
                    },
                    _ => -1,
                };
                Ok(Value::Int(v))
            }
            "assert" => {
                let c = self.arg(args, 0, line)?;
                if c.truthy() {
                    Ok(Value::Null)
                } else {
                    let msg = match args.get(1) {
                        Some(a) => match self.eval(a)? {
                            Value::Str(s) => s.to_string(),
                            _ => "GGML_ASSERT failed".into(),
                        },
                        None => "GGML_ASSERT failed".into(),
                    };
                    self.throw(line, msg)
                }
            }
            "unsupported" => {
                let m = self.opt_arg(args, 0, Value::Str(Rc::from("")))?;
                self.err(line, format!("the table cannot express this: {m:?}"))
            }
            "tn" => {
                let kind = match self.arg(args, 0, line)? {
                    Value::TensorKind(k) => k,
                    other => {
                        return self.err(line, format!("tn() needs an LLM_TENSOR_*, got {other:?}"))
                    }
                };
                // LLM_TN has `tn(tensor, bid, xid)` and `tn(tensor, suffix, bid, xid)`
                // (src/llama-arch.h): a number in second place is the layer.
                let second = self.opt_arg(args, 1, Value::Null)?;
                let (suffix, rest) = match second {
                    Value::Str(s) => (self.interner.intern(&s), 2),
                    Value::Int(b) => (NO_SUFFIX, if b >= 0 || args.len() > 2 { 1 } else { 2 }),
                    _ => (NO_SUFFIX, 2),
                };
                let bid = self
                    .opt_arg(args, rest, Value::Int(-1))?
                    .as_i64()
                    .unwrap_or(-1);
                let xid = self
                    .opt_arg(args, rest + 1, Value::Int(-1))?
                    .as_i64()
                    .unwrap_or(-1);
                Ok(Value::Tn(TnValue {
                    kind,
                    suffix,
                    bid,
                    xid,
                }))
            }
            "has_tensor" => {
                let n = self.arg(args, 0, line)?;
                let name = match n {
                    Value::Str(s) => s.to_string(),
                    Value::Tn(t) => self.tn_str(&t),
                    other => {
                        return self.err(line, format!("has_tensor needs a name, got {other:?}"))
                    }
                };
                Ok(Value::Int(i64::from(self.has(&name, None))))
            }
            "create_tensor" => self.create_tensor(args, line),
            "load_arch_tensors" => {
                let Some(body) = self.arch_tensors.clone() else {
                    return Ok(Value::Null);
                };
                // A function call: its own locals.
                let saved_file = std::mem::replace(&mut self.cur_file, self.arch_file.clone());
                let saved_base = self.frame_base;
                let mark = self.locals.len();
                self.frame_base = mark;
                self.depth += 1;
                let r = self.run_function_body(&body).map(|_| Value::Null);
                self.depth -= 1;
                self.locals.truncate(mark);
                self.frame_base = saved_base;
                self.cur_file = saved_file;
                r
            }
            "created" => {
                // Keyed by the name's parts, so the generic pass's thousands of tests build no
                // strings.
                let found = match self.arg(args, 0, line)? {
                    Value::Tn(t) => self.created_tns.contains(&t),
                    Value::Str(s) => self.created_names.contains(&*s),
                    other => {
                        return self.err(line, format!("a tensor name is needed, got {other:?}"))
                    }
                };
                Ok(Value::Int(i64::from(found)))
            }
            "layer_has" => {
                // `layer.X` of `layers[i]` (the generic pass, src/llama-model.cpp:1636-1782):
                // whether the tensor was created for the block slot `i` holds.
                let found = match self.arg(args, 0, line)? {
                    Value::Tn(mut t) => {
                        if let Some(&b) = self.slot_block.get(&t.bid) {
                            t.bid = b;
                        }
                        self.created_tns.contains(&t)
                    }
                    other => {
                        return self.err(line, format!("a tensor name is needed, got {other:?}"))
                    }
                };
                Ok(Value::Int(i64::from(found)))
            }
            "layer_slot" | "copy_layer" => {
                // `auto & layer = layers[slot]` filled with block `b`'s tensors (hrm_text,
                // src/models/hrm-text.cpp:70-71), `layers[dst] = layers[src]` (hrm-text.cpp:64,
                // nanbeige.cpp:70): the slot holds that block's tensors.
                let slot = self.arg(args, 0, line)?.as_i64().unwrap_or(-1);
                let b = self.arg(args, 1, line)?.as_i64().unwrap_or(-1);
                let block = if name == "copy_layer" {
                    self.slot_block.get(&b).copied().unwrap_or(b)
                } else {
                    b
                };
                if block == slot {
                    self.slot_block.remove(&slot);
                } else {
                    self.slot_block.insert(slot, block);
                }
                Ok(Value::Null)
            }
            "get_tensor_meta" => {
                let name = self.name_arg(args, line)?;
                let present = match self.tensor_mode {
                    TensorMode::File => self.host.tensor(&name).is_some(),
                    TensorMode::Required => false,
                };
                Ok(if present {
                    Value::Meta(Rc::from(name.as_str()))
                } else {
                    Value::Null
                })
            }
            "ne" => {
                let t = self.arg(args, 0, line)?;
                let i = self.arg(args, 1, line)?.as_i64().unwrap_or(0);
                let name = match t {
                    Value::Meta(n) => n.to_string(),
                    Value::Tensor(idx) => self
                        .requests
                        .get(idx as usize)
                        .map(|r| r.name.clone())
                        .unwrap_or_default(),
                    _ => return self.err(line, "ne() of a null tensor"),
                };
                let dims = self.host.tensor(&name).unwrap_or_default();
                let d = usize::try_from(i)
                    .ok()
                    .and_then(|i| dims.get(i).copied())
                    .unwrap_or(1);
                Ok(Value::Int(i64::try_from(d).unwrap_or(i64::MAX)))
            }
            "tensor_type" => {
                let t = self.arg(args, 0, line)?;
                let name = match t {
                    Value::Meta(n) => n.to_string(),
                    Value::Tensor(idx) => self
                        .requests
                        .get(idx as usize)
                        .map(|r| r.name.clone())
                        .unwrap_or_default(),
                    _ => return self.err(line, "tensor_type() of a null tensor"),
                };
                Ok(Value::Int(self.host.tensor_type(&name).unwrap_or(-1)))
            }
            "size" => {
                let v = self.arg(args, 0, line)?;
                match v {
                    Value::Array(a) | Value::List(a) => {
                        Ok(Value::Int(i64::try_from(a.len()).unwrap_or(i64::MAX)))
                    }
                    Value::Str(s) => Ok(Value::Int(i64::try_from(s.len()).unwrap_or(i64::MAX))),
                    _ => self.err(line, "size() of a value that is not an array"),
                }
            }
            "insert" => {
                let lv = self.lv_sym(args, 0, line)?;
                let x = self.arg(args, 1, line)?;
                if let Value::Array(mut a) = self.lv_value(&lv) {
                    if !a.contains(&x) {
                        a.push(x);
                    }
                    self.assign(&lv, AssignOp::Set, Value::Array(a), line)?;
                    Ok(Value::Null)
                } else {
                    self.err(line, "insert() into a value that is not an array")
                }
            }
            "llm_kv" => {
                let key = self.key_arg(args, line)?;
                Ok(Value::Str(Rc::from(key.as_str())))
            }
            _ => self.err(line, format!("unknown function `{name}`")),
        }
    }

    fn name_arg(&mut self, args: &[Expr], line: u32) -> R<String> {
        match self.arg(args, 0, line)? {
            Value::Str(s) => Ok(s.to_string()),
            Value::Tn(t) => Ok(self.tn_str(&t)),
            other => self.err(line, format!("a tensor name is needed, got {other:?}")),
        }
    }

    /// An absent key: llama.cpp throws when it is required (`key not found in model`,
    /// `array key not found in model`), else the read returns false.
    fn key_absent(&self, key: &str, required: bool, what: &str, line: u32) -> R<Value> {
        if required {
            return self.throw(line, format!("{what} not found in model: {key}"));
        }
        Ok(Value::Int(0))
    }

    /// `GGUFMeta::GKV<T>::get_kv`: the value's GGUF type must be the target's
    /// (src/llama-model-loader.cpp:163-171).
    fn check_type(&self, key: &str, ty: &str, expected: Option<&str>, line: u32) -> R<()> {
        match expected {
            Some(e) if e != ty => self.throw(
                line,
                format!("key {key} has wrong type {ty} but expected type {e}"),
            ),
            _ => Ok(()),
        }
    }

    /// `get_arr`'s element check (src/llama-model-loader.cpp:365-379).
    fn check_array_type(&self, key: &str, elem: &str, expected: Option<&str>, line: u32) -> R<()> {
        let ok = match elem {
            "bool" | "u32" | "i32" => matches!(expected, Some("i32" | "u32") | None),
            "u64" => matches!(expected, Some("u64") | None),
            "f32" => matches!(expected, Some("f32") | None),
            "string" => matches!(expected, Some("string") | None),
            _ => {
                return self.throw(
                    line,
                    format!("{key} is not a string/float32/uint32/int32/uint64 array"),
                )
            }
        };
        if ok {
            Ok(())
        } else {
            self.throw(line, format!("{key} has wrong array element type {elem}"))
        }
    }

    /// The length of the array a variable holds, without copying it.
    fn lv_array_len(&self, lv: &LValue) -> Option<usize> {
        match self.lookup(lv_sym_of(lv)) {
            Some(Value::Array(a)) => Some(a.len()),
            _ => None,
        }
    }

    fn lv_value(&self, lv: &LValue) -> Value {
        match lv {
            LValue::Name(s) | LValue::Index(s, _) => {
                self.lookup(*s).cloned().unwrap_or(Value::Undef)
            }
        }
    }

    fn copy_into(&mut self, lv: &LValue, values: Vec<Value>, line: u32) -> R<()> {
        let LValue::Name(sym) = lv else {
            return self.err(line, "array target must be a name");
        };
        match self.slot_mut(*sym) {
            Value::Array(a) => {
                for (slot, v) in a.iter_mut().zip(values) {
                    *slot = coerce(Some(slot), v);
                }
                Ok(())
            }
            _ => self.err(line, "not an array"),
        }
    }

    pub fn tn_str(&self, t: &TnValue) -> String {
        tn_string(&self.tables.tensor_fmt, &self.interner, t)
    }

    /// Whether the tensor exists, in the current mode; `required` is the flag of the request
    /// (for [`TensorMode::Required`]).
    fn has(&self, name: &str, required: Option<bool>) -> bool {
        match self.tensor_mode {
            TensorMode::File => self.host.tensor(name).is_some(),
            TensorMode::Required => required.unwrap_or(false),
        }
    }

    fn create_tensor(&mut self, args: &[Expr], line: u32) -> R<Value> {
        let t = match self.arg(args, 0, line)? {
            Value::Tn(t) => t,
            other => return self.err(line, format!("create_tensor needs tn(…), got {other:?}")),
        };
        let shape: Vec<i64> = match self.arg(args, 1, line)? {
            Value::List(v) => v.iter().map(|x| x.as_i64().unwrap_or(0)).collect(),
            other => {
                return self.err(
                    line,
                    format!("create_tensor needs a shape list, got {other:?}"),
                )
            }
        };
        let flags = self.opt_arg(args, 2, Value::Int(0))?.as_i64().unwrap_or(0);
        self.create(&t, shape, flags, line)
    }

    fn create(&mut self, t: &TnValue, shape: Vec<i64>, flags: i64, line: u32) -> R<Value> {
        let name = self.tn_str(t);
        let not_required = flags & self.tables.flag_not_required != 0;
        let duplicated = flags & self.tables.flag_duplicated != 0;
        let skip = flags & self.tables.flag_skip != 0;
        let reshape = flags & self.tables.flag_allow_reshape != 0;
        let op_none = self
            .tables
            .tensor_op_none
            .get(t.kind as usize)
            .copied()
            .unwrap_or(false);
        let src_line = self.src_line(line);
        let host = self.host;
        let file_shape: Option<std::borrow::Cow<'_, [u64]>> = match self.tensor_mode {
            TensorMode::File => host.tensor(&name).map(std::borrow::Cow::Borrowed),
            TensorMode::Required => {
                if not_required {
                    None
                } else {
                    Some(std::borrow::Cow::Owned(
                        shape
                            .iter()
                            .map(|&d| u64::try_from(d).unwrap_or(0))
                            .collect::<Vec<u64>>(),
                    ))
                }
            }
        };
        let mut req = TensorRequest {
            name: name.clone(),
            shape: shape.clone(),
            flags,
            layer: t.bid,
            present: file_shape.is_some(),
            created: false,
            shape_mismatch: None,
            unused: false,
            line: src_line,
            file: self.cur_file.clone(),
            kind: t.kind,
        };
        let Some(cur) = file_shape else {
            let idx = self.push_request(req);
            if !not_required && self.in_try > 0 {
                return self.throw(line, format!("tensor '{name}' not found"));
            }
            if !not_required {
                self.problems.push(LoadProblem {
                    message: format!(
                        "missing tensor `{name}` (llama.cpp requires it, shape {})",
                        fmt_shape_i(&shape)
                    ),
                    subject: Some(name),
                    line: src_line,
                    file: self.cur_file.clone(),
                    code: "missing_tensor",
                });
            }
            let _ = idx;
            return Ok(Value::Null);
        };
        // check_tensor_dims (src/llama-model-loader.cpp:880-920).
        let ok = if reshape {
            let ncur = cur.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
            let nexp = shape.iter().try_fold(1i64, |a, &d| a.checked_mul(d));
            matches!((ncur, nexp.and_then(|n| u64::try_from(n).ok())), (Some(a), Some(b)) if a == b)
        } else {
            (0..4).all(|i| {
                let c = cur.get(i).copied().unwrap_or(1);
                match shape.get(i) {
                    Some(&e) => u64::try_from(e).is_ok_and(|e| e == c),
                    None => c == 1,
                }
            })
        };
        if !ok && self.in_try > 0 {
            // check_tensor_dims throws (src/llama-model-loader.cpp:914-920): a `catch` runs.
            return self.throw(
                line,
                format!(
                    "tensor '{name}' has wrong shape; expected {}, got {}",
                    fmt_shape_i(&shape),
                    fmt_shape_u(&cur)
                ),
            );
        }
        // One finding per tensor: a tied output asks for token_embd again.
        if !ok
            && !self
                .problems
                .iter()
                .any(|p| p.code == "wrong_shape" && p.subject.as_deref() == Some(name.as_str()))
        {
            self.problems.push(LoadProblem {
                message: format!(
                    "tensor `{name}` has shape {}, llama.cpp expects {}",
                    fmt_shape_u(&cur),
                    fmt_shape_i(&shape)
                ),
                subject: Some(name),
                line: src_line,
                file: self.cur_file.clone(),
                code: "wrong_shape",
            });
            req.shape_mismatch = Some(cur.into_owned());
            // llama.cpp stops here; ggufscope goes on as if created, to report everything.
        }
        if skip || op_none {
            req.unused = true;
            req.created = true;
            self.n_created += 1;
            self.push_request(req);
            return Ok(Value::Null);
        }
        req.created = true;
        if !duplicated {
            self.n_created += 1;
        }
        self.created_tns.insert(*t);
        let idx = self.push_request(req);
        Ok(Value::Tensor(idx))
    }

    fn push_request(&mut self, req: TensorRequest) -> u32 {
        if req.created && !req.unused {
            self.created_names.insert(req.name.clone());
        }
        self.requests.push(req);
        u32::try_from(self.requests.len() - 1).unwrap_or(u32::MAX)
    }
}

/// `LLM_TN_IMPL::str()`: the name of a `tn(…)` value.
fn tn_string(formats: &[&str], interner: &Interner, t: &TnValue) -> String {
    let fmt = formats
        .get(t.kind as usize)
        .copied()
        .unwrap_or("__missing__");
    let mut name = String::with_capacity(fmt.len() + 24);
    // Most names have at most one `%d` (the layer): format those without the general printf.
    match fmt.split_once("%d") {
        None if !fmt.contains('%') => name.push_str(fmt),
        Some((a, b)) if !a.contains('%') && !b.contains('%') => {
            name.push_str(a);
            push_int(&mut name, t.bid);
            name.push_str(b);
        }
        _ => name = cformat(fmt, &[Value::Int(t.bid), Value::Int(t.xid)]),
    }
    if t.suffix != NO_SUFFIX {
        name.push('.');
        name.push_str(interner.name(t.suffix));
    }
    name
}

/// Appends `v` in decimal (without the formatting machinery: the tensor phase names hundreds
/// of tensors).
fn push_int(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut k = digits.len();
    loop {
        k -= 1;
        if let Some(d) = digits.get_mut(k) {
            // `n % 10` is below 10.
            *d = b'0' + u8::try_from(n % 10).unwrap_or(0);
        }
        n /= 10;
        if n == 0 || k == 0 {
            break;
        }
    }
    for &d in digits.get(k..).unwrap_or(&[]) {
        out.push(char::from(d));
    }
}

fn lv_sym_of(lv: &LValue) -> Sym {
    match lv {
        LValue::Name(s) | LValue::Index(s, _) => *s,
    }
}

/// Converts a metadata value to the type of the variable it is read into (an integer target
/// stays an integer, a float target becomes a float).
fn coerce(cur: Option<&Value>, v: Value) -> Value {
    match (cur, &v) {
        (Some(Value::Float(_)), Value::Int(x)) =>
        {
            #[allow(clippy::cast_precision_loss)]
            Value::Float(*x as f64)
        }
        _ => v,
    }
}

/// printf-style formatting for `%d`, `%u`, `%s`, `%f`, `%zu`, `%%`.
pub(crate) fn cformat(fmt: &str, args: &[Value]) -> String {
    let mut out = String::with_capacity(fmt.len() + 8);
    let mut args = args.iter();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // Skip flags, width, length modifiers.
        let mut spec = String::new();
        while let Some(&n) = chars.peek() {
            chars.next();
            if n.is_ascii_alphabetic() && !matches!(n, 'l' | 'z' | 'h') {
                spec.push(n);
                break;
            }
            if n == '%' {
                spec.push('%');
                break;
            }
        }
        match spec.as_str() {
            "%" => out.push('%'),
            _ => match args.next() {
                Some(Value::Int(v)) => out.push_str(&v.to_string()),
                Some(Value::Float(v)) => out.push_str(&format!("{v:.6}")),
                Some(Value::Str(s)) => out.push_str(s),
                Some(other) => out.push_str(&format!("{other:?}")),
                None => {}
            },
        }
    }
    out
}

fn fmt_shape_i(s: &[i64]) -> String {
    let v: Vec<String> = s.iter().map(i64::to_string).collect();
    format!("[{}]", v.join(", "))
}

fn fmt_shape_u(s: &[u64]) -> String {
    let v: Vec<String> = s.iter().map(u64::to_string).collect();
    format!("[{}]", v.join(", "))
}
