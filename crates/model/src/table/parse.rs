//! Parser of archc bodies into an AST whose names are interned symbols.

use std::rc::Rc;

use super::lex::{lex, unescape, Tok, Token};

/// An interned name.
pub(crate) type Sym = u32;

/// Names to symbols and back.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    ids: rustc_hash::FxHashMap<String, Sym>,
    names: Vec<Rc<str>>,
    /// The GGUF value type a declared variable's C type reads (`uint32_t` → `u32`), for
    /// llama.cpp's type checks of `get_key`/`get_arr` (`GGUFMeta::GKV`,
    /// src/llama-model-loader.cpp:117-171).
    pub types: rustc_hash::FxHashMap<Sym, &'static str>,
}

impl Interner {
    pub fn intern(&mut self, name: &str) -> Sym {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = Sym::try_from(self.names.len()).unwrap_or(Sym::MAX);
        self.names.push(Rc::from(name));
        self.ids.insert(name.to_string(), id);
        id
    }

    pub fn get(&self, name: &str) -> Option<Sym> {
        self.ids.get(name).copied()
    }

    /// The name, shared (no copy of the text).
    pub fn name_rc(&self, sym: Sym) -> Rc<str> {
        usize::try_from(sym)
            .ok()
            .and_then(|i| self.names.get(i))
            .map_or_else(|| Rc::from("?"), Rc::clone)
    }

    pub fn name(&self, sym: Sym) -> &str {
        usize::try_from(sym)
            .ok()
            .and_then(|i| self.names.get(i))
            .map_or("?", |s| s)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnOp {
    Not,
    Neg,
    BitNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Mul,
    Div,
    Rem,
    Add,
    Sub,
    Shl,
    Shr,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    BitAnd,
    BitXor,
    BitOr,
    And,
    Or,
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Null,
    Name(Sym, u32),
    Call(Sym, Vec<Expr>, u32),
    Index(Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    ToFloat(Box<Expr>),
    ToInt(Box<Expr>),
    /// `[&](params) { body }`: a local function seeing the enclosing locals.
    Lambda(std::rc::Rc<Function>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AssignOp {
    Set,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Or,
    And,
    Xor,
    Shl,
    Shr,
}

#[derive(Debug, Clone)]
pub(crate) enum LValue {
    Name(Sym),
    Index(Sym, Expr),
}

#[derive(Debug, Clone)]
pub(crate) struct Stmt {
    pub kind: StmtKind,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub(crate) enum StmtKind {
    Block(Vec<Stmt>),
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    For {
        init: Option<Box<Stmt>>,
        cond: Option<Expr>,
        step: Option<Box<Stmt>>,
        body: Box<Stmt>,
    },
    While(Expr, Box<Stmt>),
    Break,
    Continue,
    Return(Option<Expr>),
    Decl(Vec<(Sym, Option<Expr>)>),
    Assign(LValue, AssignOp, Expr),
    Expr(Expr),
    Throw(Expr),
    /// `try { … } catch (...) { … }`.
    Try(Box<Stmt>, Box<Stmt>),
    Empty,
}

/// A function of the table (`@fn`).
#[derive(Debug, Clone)]
pub(crate) struct Function {
    pub params: Vec<(Sym, Option<Expr>)>,
    pub body: Vec<Stmt>,
    /// The llama.cpp source file the body is from (set by the table loader).
    pub file: Option<std::rc::Rc<str>>,
}

/// A parse error: line and message.
pub(crate) type ParseError = (u32, String);

const TYPE_WORDS: &[&str] = &[
    "const",
    "static",
    "unsigned",
    "signed",
    "int",
    "long",
    "short",
    "int8_t",
    "int16_t",
    "int32_t",
    "int64_t",
    "uint8_t",
    "uint16_t",
    "uint32_t",
    "uint64_t",
    "size_t",
    "bool",
    "float",
    "double",
    "auto",
    "char",
    "void",
    "constexpr",
    "llama_swa_type",
    "llama_expert_gating_func_type",
    "llama_pooling_type",
    "llama_rope_scaling_type",
    "enum",
    "ggml_type",
];

fn is_type_word(s: &str) -> bool {
    TYPE_WORDS.contains(&s)
}

pub(crate) struct Parser<'i> {
    toks: Vec<Token>,
    pos: usize,
    interner: &'i mut Interner,
}

impl<'i> Parser<'i> {
    pub fn new(
        src: &'static str,
        first_line: u32,
        interner: &'i mut Interner,
    ) -> Result<Self, ParseError> {
        Ok(Self {
            toks: lex(src, first_line)?,
            pos: 0,
            interner,
        })
    }

    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&Tok::Eof, |t| &t.kind)
    }

    fn peek_at(&self, k: usize) -> &Tok {
        self.toks.get(self.pos + k).map_or(&Tok::Eof, |t| &t.kind)
    }

    fn line(&self) -> u32 {
        self.toks
            .get(self.pos)
            .or_else(|| self.toks.last())
            .map_or(0, |t| t.line)
    }

    fn bump(&mut self) -> Tok {
        let t = *self.peek();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str) -> Result<(), ParseError> {
        if self.eat(p) {
            Ok(())
        } else {
            Err((
                self.line(),
                format!("expected `{p}`, found {}", self.peek()),
            ))
        }
    }

    fn ident(&mut self) -> Result<&'static str, ParseError> {
        match self.bump() {
            Tok::Ident(s) => Ok(s),
            other => Err((self.line(), format!("expected a name, found {other}"))),
        }
    }

    pub fn at_end(&self) -> bool {
        matches!(self.peek(), Tok::Eof)
    }

    /// Statements up to the end of the input.
    pub fn body(&mut self) -> Result<Vec<Stmt>, ParseError> {
        let mut out = Vec::new();
        while !self.at_end() {
            out.push(self.stmt()?);
        }
        Ok(out)
    }

    /// `RET name(params) [const] { body }`: a function; returns its name.
    pub fn function(&mut self) -> Result<(String, Function), ParseError> {
        self.skip_type()?;
        let name = self.ident()?;
        self.expect("(")?;
        let mut params = Vec::new();
        while !self.eat(")") {
            self.skip_type()?;
            let _ = self.eat("&");
            let p = self.ident()?;
            let default = if self.eat("=") {
                Some(self.expr()?)
            } else {
                None
            };
            params.push((self.interner.intern(p), default));
            if !self.eat(",") {
                self.expect(")")?;
                break;
            }
        }
        while matches!(self.peek(), Tok::Ident(s) if *s == "const") {
            self.pos += 1;
        }
        self.expect("{")?;
        let mut body = Vec::new();
        while !self.eat("}") {
            if self.at_end() {
                return Err((self.line(), format!("function `{name}` not closed")));
            }
            body.push(self.stmt()?);
        }
        Ok((
            name.to_string(),
            Function {
                params,
                body,
                file: None,
            },
        ))
    }

    /// Skips a type: type words, `std::name`, template arguments, `&`/`*`.
    fn skip_type(&mut self) -> Result<(), ParseError> {
        let mut any = false;
        loop {
            match *self.peek() {
                Tok::Ident(s) if is_type_word(s) => {
                    self.pos += 1;
                    any = true;
                }
                Tok::Ident(s) if s == "std" && matches!(self.peek_at(1), Tok::Punct("::")) => {
                    self.pos += 2;
                    let _ = self.ident()?;
                    any = true;
                    if self.eat("<") {
                        let mut depth = 1;
                        while depth > 0 {
                            match self.bump() {
                                Tok::Punct("<") => depth += 1,
                                Tok::Punct(">") => depth -= 1,
                                Tok::Punct(">>") => depth -= 2,
                                Tok::Eof => return Err((self.line(), "unclosed template".into())),
                                _ => {}
                            }
                        }
                    }
                }
                Tok::Punct("&") | Tok::Punct("*") if any => {
                    self.pos += 1;
                }
                _ => break,
            }
        }
        if any {
            Ok(())
        } else {
            Err((
                self.line(),
                format!("expected a type, found {}", self.peek()),
            ))
        }
    }

    fn starts_decl(&self) -> bool {
        match self.peek() {
            Tok::Ident(s) if is_type_word(s) => {
                // `float(x)` / `int64_t(x)` at statement start is a cast expression, not a
                // declaration; a declaration has a name after its type words.
                !matches!(self.peek_at(1), Tok::Punct("("))
            }
            Tok::Ident("std") => {
                matches!(self.peek_at(1), Tok::Punct("::"))
                    && matches!(self.peek_at(2), Tok::Ident(n) if *n == "string" || *n == "array" || *n == "vector")
            }
            _ => false,
        }
    }

    fn decl(&mut self) -> Result<Stmt, ParseError> {
        let line = self.line();
        let start = self.pos;
        self.skip_type()?;
        let gguf_type = self
            .toks
            .get(start..self.pos)
            .unwrap_or(&[])
            .iter()
            .rev()
            .find_map(|t| match &t.kind {
                Tok::Ident(w) => gguf_type_of(w),
                _ => None,
            });
        let mut vars = Vec::new();
        loop {
            let _ = self.eat("&");
            let name = self.dotted_name()?;
            let init = if self.eat("=") {
                Some(self.expr()?)
            } else if self.is_punct("{") {
                // `T x{v}` initialisation.
                self.pos += 1;
                let e = if self.is_punct("}") {
                    Expr::Int(0)
                } else {
                    self.expr()?
                };
                self.expect("}")?;
                Some(e)
            } else {
                None
            };
            let sym = self.interner.intern(&name);
            if let Some(t) = gguf_type {
                self.interner.types.entry(sym).or_insert(t);
            }
            vars.push((sym, init));
            if !self.eat(",") {
                break;
            }
        }
        Ok(Stmt {
            kind: StmtKind::Decl(vars),
            line,
        })
    }

    fn dotted_name(&mut self) -> Result<std::borrow::Cow<'static, str>, ParseError> {
        let first = self.ident()?;
        if !(self.is_punct(".") && matches!(self.peek_at(1), Tok::Ident(_))) {
            return Ok(std::borrow::Cow::Borrowed(first));
        }
        let mut name = first.to_string();
        while self.is_punct(".") && matches!(self.peek_at(1), Tok::Ident(_)) {
            self.pos += 1;
            name.push('.');
            name.push_str(self.ident()?);
        }
        Ok(std::borrow::Cow::Owned(name))
    }

    fn block_or_stmt(&mut self) -> Result<Stmt, ParseError> {
        self.stmt()
    }

    pub fn stmt(&mut self) -> Result<Stmt, ParseError> {
        let line = self.line();
        let kind = match *self.peek() {
            Tok::Punct(";") => {
                self.pos += 1;
                StmtKind::Empty
            }
            Tok::Punct("{") => {
                self.pos += 1;
                let mut v = Vec::new();
                while !self.eat("}") {
                    if self.at_end() {
                        return Err((line, "block not closed".into()));
                    }
                    v.push(self.stmt()?);
                }
                StmtKind::Block(v)
            }
            Tok::Ident("if") => {
                self.pos += 1;
                // `if constexpr`.
                if matches!(self.peek(), Tok::Ident(s) if *s == "constexpr") {
                    self.pos += 1;
                }
                self.expect("(")?;
                let pre = if self.starts_decl() {
                    let d = self.decl()?;
                    self.expect(";")?;
                    Some(d)
                } else {
                    None
                };
                let cond = self.expr()?;
                self.expect(")")?;
                let then = Box::new(self.block_or_stmt()?);
                let els = if matches!(self.peek(), Tok::Ident(s) if *s == "else") {
                    self.pos += 1;
                    Some(Box::new(self.block_or_stmt()?))
                } else {
                    None
                };
                let s = StmtKind::If(cond, then, els);
                match pre {
                    Some(d) => StmtKind::Block(vec![d, Stmt { kind: s, line }]),
                    None => s,
                }
            }
            Tok::Ident("for") => {
                self.pos += 1;
                self.expect("(")?;
                let init = if self.eat(";") {
                    None
                } else {
                    let s = if self.starts_decl() {
                        self.decl()?
                    } else {
                        self.simple_stmt()?
                    };
                    self.expect(";")?;
                    Some(Box::new(s))
                };
                let cond = if self.is_punct(";") {
                    None
                } else {
                    Some(self.expr()?)
                };
                self.expect(";")?;
                let step = if self.is_punct(")") {
                    None
                } else {
                    Some(Box::new(self.simple_stmt()?))
                };
                self.expect(")")?;
                let body = Box::new(self.block_or_stmt()?);
                StmtKind::For {
                    init,
                    cond,
                    step,
                    body,
                }
            }
            Tok::Ident("while") => {
                self.pos += 1;
                self.expect("(")?;
                let cond = self.expr()?;
                self.expect(")")?;
                StmtKind::While(cond, Box::new(self.block_or_stmt()?))
            }
            Tok::Ident("break") => {
                self.pos += 1;
                self.expect(";")?;
                StmtKind::Break
            }
            Tok::Ident("continue") => {
                self.pos += 1;
                self.expect(";")?;
                StmtKind::Continue
            }
            Tok::Ident("return") => {
                self.pos += 1;
                let e = if self.is_punct(";") {
                    None
                } else {
                    Some(self.expr()?)
                };
                self.expect(";")?;
                StmtKind::Return(e)
            }
            Tok::Ident("try") => {
                self.pos += 1;
                let body = Box::new(self.stmt()?);
                match self.bump() {
                    Tok::Ident("catch") => {}
                    other => return Err((line, format!("expected `catch`, found {other}"))),
                }
                self.expect("(")?;
                let mut depth = 1;
                while depth > 0 {
                    match self.bump() {
                        Tok::Punct("(") => depth += 1,
                        Tok::Punct(")") => depth -= 1,
                        Tok::Eof => return Err((line, "unclosed catch".into())),
                        _ => {}
                    }
                }
                let handler = Box::new(self.stmt()?);
                StmtKind::Try(body, handler)
            }
            Tok::Ident("throw") => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(";")?;
                StmtKind::Throw(e)
            }
            _ if self.starts_decl() => {
                let d = self.decl()?;
                self.expect(";")?;
                return Ok(d);
            }
            _ => {
                let s = self.simple_stmt()?;
                self.expect(";")?;
                return Ok(s);
            }
        };
        Ok(Stmt { kind, line })
    }

    /// An assignment, increment or expression (no trailing `;`).
    fn simple_stmt(&mut self) -> Result<Stmt, ParseError> {
        let line = self.line();
        if self.is_punct("++") || self.is_punct("--") {
            let op = if self.eat("++") {
                AssignOp::Add
            } else {
                self.pos += 1;
                AssignOp::Sub
            };
            let lv = self.lvalue()?;
            return Ok(Stmt {
                kind: StmtKind::Assign(lv, op, Expr::Int(1)),
                line,
            });
        }
        let e = self.expr()?;
        let op = match self.peek() {
            Tok::Punct("=") => Some(AssignOp::Set),
            Tok::Punct("+=") => Some(AssignOp::Add),
            Tok::Punct("-=") => Some(AssignOp::Sub),
            Tok::Punct("*=") => Some(AssignOp::Mul),
            Tok::Punct("/=") => Some(AssignOp::Div),
            Tok::Punct("%=") => Some(AssignOp::Rem),
            Tok::Punct("|=") => Some(AssignOp::Or),
            Tok::Punct("&=") => Some(AssignOp::And),
            Tok::Punct("^=") => Some(AssignOp::Xor),
            Tok::Punct("<<=") => Some(AssignOp::Shl),
            Tok::Punct(">>=") => Some(AssignOp::Shr),
            Tok::Punct("++") => {
                self.pos += 1;
                let lv = to_lvalue(e).ok_or((line, "`++` needs a variable".to_string()))?;
                return Ok(Stmt {
                    kind: StmtKind::Assign(lv, AssignOp::Add, Expr::Int(1)),
                    line,
                });
            }
            Tok::Punct("--") => {
                self.pos += 1;
                let lv = to_lvalue(e).ok_or((line, "`--` needs a variable".to_string()))?;
                return Ok(Stmt {
                    kind: StmtKind::Assign(lv, AssignOp::Sub, Expr::Int(1)),
                    line,
                });
            }
            _ => None,
        };
        let Some(op) = op else {
            return Ok(Stmt {
                kind: StmtKind::Expr(e),
                line,
            });
        };
        self.pos += 1;
        let lv =
            to_lvalue(e).ok_or((line, "the left side of `=` is not a variable".to_string()))?;
        let rhs = self.expr()?;
        Ok(Stmt {
            kind: StmtKind::Assign(lv, op, rhs),
            line,
        })
    }

    fn lvalue(&mut self) -> Result<LValue, ParseError> {
        let line = self.line();
        let e = self.postfix()?;
        to_lvalue(e).ok_or((line, "not a variable".to_string()))
    }

    pub fn expr(&mut self) -> Result<Expr, ParseError> {
        let c = self.binary(0)?;
        if self.eat("?") {
            let a = self.expr()?;
            self.expect(":")?;
            let b = self.expr()?;
            return Ok(Expr::Cond(Box::new(c), Box::new(a), Box::new(b)));
        }
        Ok(c)
    }

    fn binary(&mut self, min_prec: u8) -> Result<Expr, ParseError> {
        let mut lhs = self.unary()?;
        while let Some((op, prec)) = match self.peek() {
            Tok::Punct(p) => binop(p),
            _ => None,
        } {
            if prec < min_prec {
                break;
            }
            self.pos += 1;
            let rhs = self.binary(prec + 1)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat("!") {
            return Ok(Expr::Unary(UnOp::Not, Box::new(self.unary()?)));
        }
        if self.eat("-") {
            return Ok(Expr::Unary(UnOp::Neg, Box::new(self.unary()?)));
        }
        if self.eat("+") {
            return self.unary();
        }
        if self.eat("~") {
            return Ok(Expr::Unary(UnOp::BitNot, Box::new(self.unary()?)));
        }
        // A cast `(T) e`.
        if self.is_punct("(") {
            if let Tok::Ident(s) = *self.peek_at(1) {
                if is_type_word(s) || s == "std" {
                    let save = self.pos;
                    self.pos += 1;
                    if self.skip_type().is_ok() && self.eat(")") {
                        let inner = self.unary()?;
                        return Ok(cast(s, inner));
                    }
                    self.pos = save;
                }
            }
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.primary()?;
        loop {
            if self.eat("[") {
                let i = self.expr()?;
                self.expect("]")?;
                e = Expr::Index(Box::new(e), Box::new(i));
            } else {
                break;
            }
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let line = self.line();
        match self.bump() {
            Tok::Int(v) => Ok(Expr::Int(v)),
            Tok::Float(v) => Ok(Expr::Float(v)),
            Tok::Str(raw) => {
                // Adjacent literals concatenate.
                if !matches!(self.peek(), Tok::Str(_)) {
                    return Ok(Expr::Str(Rc::from(unescape(raw).as_ref())));
                }
                let mut s = unescape(raw).into_owned();
                while let Tok::Str(more) = *self.peek() {
                    self.pos += 1;
                    s.push_str(&unescape(more));
                }
                Ok(Expr::Str(Rc::from(s.as_str())))
            }
            Tok::Punct("(") => {
                let e = self.expr()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Punct("[") => {
                // A lambda: `[&]` or `[=]` or `[]`, parameters, body.
                while !self.eat("]") {
                    if self.at_end() {
                        return Err((line, "unclosed lambda capture".into()));
                    }
                    self.pos += 1;
                }
                self.expect("(")?;
                let mut params = Vec::new();
                while !self.eat(")") {
                    self.skip_type()?;
                    let _ = self.eat("&");
                    let p = self.ident()?;
                    params.push((self.interner.intern(p), None));
                    if !self.eat(",") {
                        self.expect(")")?;
                        break;
                    }
                }
                if self.eat("->") {
                    self.skip_type()?;
                }
                self.expect("{")?;
                let mut body = Vec::new();
                while !self.eat("}") {
                    if self.at_end() {
                        return Err((line, "lambda not closed".into()));
                    }
                    body.push(self.stmt()?);
                }
                Ok(Expr::Lambda(std::rc::Rc::new(Function {
                    params,
                    body,
                    file: None,
                })))
            }
            Tok::Punct("{") => {
                let mut items = Vec::new();
                while !self.eat("}") {
                    items.push(self.expr()?);
                    if !self.eat(",") {
                        self.expect("}")?;
                        break;
                    }
                }
                Ok(Expr::List(items))
            }
            Tok::Ident(w) => {
                match w {
                    "true" => return Ok(Expr::Int(1)),
                    "false" => return Ok(Expr::Int(0)),
                    "nullptr" | "NULL" => return Ok(Expr::Null),
                    "static_cast" => {
                        self.expect("<")?;
                        let first = match self.peek() {
                            Tok::Ident(s) => *s,
                            _ => "",
                        };
                        self.skip_type()?;
                        self.expect(">")?;
                        self.expect("(")?;
                        let e = self.expr()?;
                        self.expect(")")?;
                        return Ok(cast(first, e));
                    }
                    _ => {}
                }
                if is_type_word(w) && self.is_punct("(") {
                    self.pos += 1;
                    let e = self.expr()?;
                    self.expect(")")?;
                    return Ok(cast(w, e));
                }
                let sym = if self.is_punct(".") && matches!(self.peek_at(1), Tok::Ident(_)) {
                    let mut name = w.to_string();
                    while self.is_punct(".") && matches!(self.peek_at(1), Tok::Ident(_)) {
                        self.pos += 1;
                        name.push('.');
                        name.push_str(self.ident()?);
                    }
                    self.interner.intern(&name)
                } else {
                    self.interner.intern(w)
                };
                if self.eat("(") {
                    let mut args = Vec::new();
                    while !self.eat(")") {
                        args.push(self.expr()?);
                        if !self.eat(",") {
                            self.expect(")")?;
                            break;
                        }
                    }
                    Ok(Expr::Call(sym, args, line))
                } else {
                    Ok(Expr::Name(sym, line))
                }
            }
            other => Err((line, format!("unexpected {other}"))),
        }
    }
}

/// The GGUF type a C type is read from (`GGUFMeta::GKV_Base<T>`,
/// src/llama-model-loader.cpp:119-132).
pub(crate) fn gguf_type_of(word: &str) -> Option<&'static str> {
    Some(match word {
        "uint8_t" => "u8",
        "int8_t" => "i8",
        "uint16_t" => "u16",
        "int16_t" => "i16",
        "uint32_t" | "unsigned" => "u32",
        "int32_t" | "int" => "i32",
        "uint64_t" | "size_t" => "u64",
        "int64_t" => "i64",
        "float" => "f32",
        "double" => "f64",
        "bool" => "bool",
        "string" => "string",
        _ => return None,
    })
}

fn cast(type_word: &str, e: Expr) -> Expr {
    match type_word {
        "float" | "double" => Expr::ToFloat(Box::new(e)),
        "bool" => Expr::Binary(BinOp::Ne, Box::new(e), Box::new(Expr::Int(0))),
        "std" | "auto" | "const" => e,
        _ => Expr::ToInt(Box::new(e)),
    }
}

fn to_lvalue(e: Expr) -> Option<LValue> {
    match e {
        Expr::Name(s, _) => Some(LValue::Name(s)),
        Expr::Index(a, i) => match *a {
            Expr::Name(s, _) => Some(LValue::Index(s, *i)),
            _ => None,
        },
        _ => None,
    }
}

fn binop(p: &str) -> Option<(BinOp, u8)> {
    Some(match p {
        "||" => (BinOp::Or, 1),
        "&&" => (BinOp::And, 2),
        "|" => (BinOp::BitOr, 3),
        "^" => (BinOp::BitXor, 4),
        "&" => (BinOp::BitAnd, 5),
        "==" => (BinOp::Eq, 6),
        "!=" => (BinOp::Ne, 6),
        "<" => (BinOp::Lt, 7),
        "<=" => (BinOp::Le, 7),
        ">" => (BinOp::Gt, 7),
        ">=" => (BinOp::Ge, 7),
        "<<" => (BinOp::Shl, 8),
        ">>" => (BinOp::Shr, 8),
        "+" => (BinOp::Add, 9),
        "-" => (BinOp::Sub, 9),
        "*" => (BinOp::Mul, 10),
        "/" => (BinOp::Div, 10),
        "%" => (BinOp::Rem, 10),
        _ => return None,
    })
}
