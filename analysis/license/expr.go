package license

import (
	"fmt"
	"slices"
	"strings"

	"github.com/reehub/reehub/fault"
)

// Op is the operator of an expression node.
type Op string

// The operators of an SPDX license expression, plus OpLicense for a leaf.
const (
	// OpLicense marks a leaf: one license id, maybe with "+" and an exception.
	OpLicense Op = "LICENSE"
	// OpAnd marks a conjunction: every operand applies.
	OpAnd Op = "AND"
	// OpOr marks a disjunction: the licensee picks one operand.
	OpOr Op = "OR"
)

// Expr is a node of a parsed SPDX license expression. A leaf (Op ==
// OpLicense) carries ID, OrLater and Exception; an AND or OR node carries two
// or more Operands. Expressions built by ParseExpression are normalised: ids
// use their canonical SPDX spelling, deprecated ids are replaced ("GPL-2.0+"
// becomes "GPL-2.0-or-later"), nested operators of one kind are flattened and
// operands are deduplicated and sorted.
type Expr struct {
	// Op is the node's operator.
	Op Op
	// ID is the license id of a leaf, such as "MIT" or "LicenseRef-foo".
	ID string
	// OrLater is true for a leaf written with a trailing "+" that has no
	// "-or-later" id of its own ("MPL-1.1+").
	OrLater bool
	// Exception is the exception id of a leaf written "ID WITH EXCEPTION".
	Exception string
	// Operands are the children of an AND or OR node.
	Operands []*Expr
}

// String renders the expression in SPDX syntax, with parentheses only where
// precedence needs them.
func (e *Expr) String() string {
	if e == nil {
		return ""
	}
	if e.Op == OpLicense {
		s := e.ID
		if e.OrLater {
			s += "+"
		}
		if e.Exception != "" {
			s += " WITH " + e.Exception
		}
		return s
	}
	parts := make([]string, len(e.Operands))
	for i, o := range e.Operands {
		parts[i] = o.String()
		if e.Op == OpAnd && o.Op == OpOr {
			parts[i] = "(" + parts[i] + ")"
		}
	}
	return strings.Join(parts, " "+string(e.Op)+" ")
}

// Licenses returns the sorted, distinct license ids of the expression's
// leaves, each with "+" appended when the leaf is OrLater; exceptions are left
// out.
func (e *Expr) Licenses() []string {
	var ids []string
	var walk func(*Expr)
	walk = func(n *Expr) {
		if n.Op == OpLicense {
			id := n.ID
			if n.OrLater {
				id += "+"
			}
			ids = append(ids, id)
			return
		}
		for _, o := range n.Operands {
			walk(o)
		}
	}
	if e != nil {
		walk(e)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// ParseExpression parses an SPDX license expression such as
// "(MIT OR Apache-2.0) AND GPL-2.0+ WITH Classpath-exception-2.0" into a
// normalised Expr. Operators are accepted in any case; WITH binds tighter than
// AND, which binds tighter than OR. A malformed expression is a fault.ErrInvalid.
func ParseExpression(s string) (*Expr, error) {
	p := &parser{toks: tokenize(s)}
	if len(p.toks) == 0 {
		return nil, fault.Invalidf("empty license expression")
	}
	e, err := p.or()
	if err != nil {
		return nil, fmt.Errorf("parse license expression %q: %w", s, err)
	}
	if p.pos < len(p.toks) {
		return nil, fault.Invalidf("parse license expression %q: unexpected %q", s, p.toks[p.pos])
	}
	return normalize(e), nil
}

func tokenize(s string) []string {
	var toks []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r == '(' || r == ')':
			flush()
			toks = append(toks, string(r))
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return toks
}

type parser struct {
	toks []string
	pos  int
}

func (p *parser) peekOp(op string) bool {
	return p.pos < len(p.toks) && strings.EqualFold(p.toks[p.pos], op)
}

func (p *parser) or() (*Expr, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	ops := []*Expr{left}
	for p.peekOp("OR") {
		p.pos++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		ops = append(ops, right)
	}
	if len(ops) == 1 {
		return left, nil
	}
	return &Expr{Op: OpOr, Operands: ops}, nil
}

func (p *parser) and() (*Expr, error) {
	left, err := p.with()
	if err != nil {
		return nil, err
	}
	ops := []*Expr{left}
	for p.peekOp("AND") {
		p.pos++
		right, err := p.with()
		if err != nil {
			return nil, err
		}
		ops = append(ops, right)
	}
	if len(ops) == 1 {
		return left, nil
	}
	return &Expr{Op: OpAnd, Operands: ops}, nil
}

func (p *parser) with() (*Expr, error) {
	e, err := p.primary()
	if err != nil {
		return nil, err
	}
	if !p.peekOp("WITH") {
		return e, nil
	}
	p.pos++
	if e.Op != OpLicense {
		return nil, fault.Invalidf("WITH must follow a license id")
	}
	if p.pos >= len(p.toks) || !isIDToken(p.toks[p.pos]) {
		return nil, fault.Invalidf("WITH must be followed by an exception id")
	}
	e.Exception = p.toks[p.pos]
	p.pos++
	return e, nil
}

func (p *parser) primary() (*Expr, error) {
	if p.pos >= len(p.toks) {
		return nil, fault.Invalidf("expression ends early")
	}
	t := p.toks[p.pos]
	if t == "(" {
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos] != ")" {
			return nil, fault.Invalidf("missing closing parenthesis")
		}
		p.pos++
		return e, nil
	}
	if !isIDToken(t) {
		return nil, fault.Invalidf("unexpected %q", t)
	}
	p.pos++
	leaf := &Expr{Op: OpLicense, ID: t}
	if strings.HasSuffix(t, "+") {
		leaf.ID, leaf.OrLater = strings.TrimSuffix(t, "+"), true
	}
	if leaf.ID == "" {
		return nil, fault.Invalidf("unexpected %q", t)
	}
	return leaf, nil
}

// isIDToken reports whether t may be a license or exception id: idstring
// characters (letters, digits, '.', '-', ':' for DocumentRef, '+' at the end)
// and not an operator.
func isIDToken(t string) bool {
	switch strings.ToUpper(t) {
	case "AND", "OR", "WITH", "(", ")":
		return false
	}
	for i, r := range t {
		ok := r == '.' || r == '-' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			r == '+' && i == len(t)-1
		if !ok {
			return false
		}
	}
	return true
}

// normalize canonicalises ids, folds "+" into -or-later ids, flattens nested
// operators of one kind and sorts and deduplicates operands.
func normalize(e *Expr) *Expr {
	if e.Op == OpLicense {
		e.ID, e.OrLater = CanonicalID(e.ID, e.OrLater)
		if e.Exception != "" {
			e.Exception, _ = CanonicalID(e.Exception, false)
		}
		return e
	}
	var ops []*Expr
	for _, o := range e.Operands {
		o = normalize(o)
		if o.Op == e.Op {
			ops = append(ops, o.Operands...)
		} else {
			ops = append(ops, o)
		}
	}
	slices.SortFunc(ops, func(a, b *Expr) int { return strings.Compare(a.String(), b.String()) })
	ops = slices.CompactFunc(ops, func(a, b *Expr) bool { return a.String() == b.String() })
	if len(ops) == 1 {
		return ops[0]
	}
	e.Operands = ops
	return e
}
