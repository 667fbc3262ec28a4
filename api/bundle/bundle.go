package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// header starts the bundled document.
const header = "# Bundled by `make gen` (api/bundle) from api/*.yaml: edit those files, not this one.\n"

// familiesKey is the key of common.yaml that lists the family files in order;
// the bundle drops it.
const familiesKey = "x-reehub-families"

// mirrorKey is the family-file key that serves a family's paths under a
// second prefix: {from: /repo/api/v1, to: /api/v1, operationIdSuffix: V1}
// copies every path under from to the same path under to, each operationId
// with the suffix (the strict server needs one method per operation; the
// handlers of a mirrored operation call the original's).
const mirrorKey = "x-reehub-mirror"

// scopeKey is the operation extension that names the scope an operation needs.
const scopeKey = "x-reehub-scope"

// componentSections are the sections of components a family file may add to.
var componentSections = []string{"schemas", "parameters", "responses", "requestBodies", "headers", "examples", "securitySchemes"}

// source is one authored file.
type source struct {
	path   string
	family string // "" for common.yaml
	root   *yaml.Node
}

// bundle reads api/common.yaml and the family files it lists, checks the
// naming rules, merges them in order and returns the bundled document.
func bundle(dir string) ([]byte, error) {
	common, err := readSource(filepath.Join(dir, "common.yaml"), "")
	if err != nil {
		return nil, err
	}
	families, err := familyList(common)
	if err != nil {
		return nil, err
	}
	srcs := []*source{common}
	for _, f := range families {
		s, err := readSource(filepath.Join(dir, f+".yaml"), f)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, s)
	}
	if err := checkNames(srcs); err != nil {
		return nil, err
	}
	out, err := merge(srcs)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	if err := validate(buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func readSource(path, family string) (*source, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: the top level must be a mapping", path)
	}
	root := doc.Content[0]
	if family != "" {
		for i := 0; i < len(root.Content); i += 2 {
			switch k := root.Content[i].Value; k {
			case "tags", "paths", "components":
			case mirrorKey:
			default:
				return nil, fmt.Errorf("%s: a family file holds tags, paths and components only, not %q", path, k)
			}
		}
	}
	src := &source{path: path, family: family, root: root}
	if err := src.expandMirror(); err != nil {
		return nil, err
	}
	return src, nil
}

// expandMirror applies x-reehub-mirror (see mirrorKey) and drops the key.
func (s *source) expandMirror() error {
	var m *yaml.Node
	for i := 0; i < len(s.root.Content); i += 2 {
		if s.root.Content[i].Value == mirrorKey {
			m = s.root.Content[i+1]
			s.root.Content = slices.Delete(s.root.Content, i, i+2)
			break
		}
	}
	if m == nil {
		return nil
	}
	from, to, suffix := valueOf(lookup(m, "from")), valueOf(lookup(m, "to")), valueOf(lookup(m, "operationIdSuffix"))
	if !strings.HasPrefix(from, "/") || !strings.HasPrefix(to, "/") || from == to || suffix == "" || !unicode.IsUpper(rune(suffix[0])) {
		return fmt.Errorf("%s: %s needs from and to (different path prefixes) and an operationIdSuffix starting upper-case", s.path, mirrorKey)
	}
	paths := lookup(s.root, "paths")
	if paths == nil {
		return fmt.Errorf("%s: %s without paths", s.path, mirrorKey)
	}
	var added []*yaml.Node
	for i := 0; i < len(paths.Content); i += 2 {
		k := paths.Content[i]
		rest, ok := strings.CutPrefix(k.Value, from)
		if !ok || rest != "" && !strings.HasPrefix(rest, "/") {
			continue
		}
		item := deepCopy(paths.Content[i+1])
		for _, meth := range methods {
			if op := lookup(item, meth); op != nil {
				if id := lookup(op, "operationId"); id != nil {
					id.Value += suffix
				}
			}
		}
		key := &yaml.Node{Kind: yaml.ScalarNode, Value: to + rest}
		added = append(added, key, item)
	}
	if len(added) == 0 {
		return fmt.Errorf("%s: %s: no path starts with %s", s.path, mirrorKey, from)
	}
	paths.Content = append(paths.Content, added...)
	return nil
}

// deepCopy copies a YAML node tree (aliases are copied as aliases).
func deepCopy(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, ch := range n.Content {
		c.Content[i] = deepCopy(ch)
	}
	return &c
}

// familyList reads the ordered list of family files from common.yaml.
func familyList(common *source) ([]string, error) {
	n := lookup(common.root, familiesKey)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: %s must list the family files in order", common.path, familiesKey)
	}
	var out []string
	for _, f := range n.Content {
		if !regexp.MustCompile(`^[a-z]+$`).MatchString(f.Value) {
			return nil, fmt.Errorf("%s: family %q must be lower-case letters", common.path, f.Value)
		}
		out = append(out, f.Value)
	}
	return out, nil
}

// merge concatenates tags and paths and merges components, refusing duplicates.
func merge(srcs []*source) (*yaml.Node, error) {
	out := &yaml.Node{Kind: yaml.MappingNode}
	tags := &yaml.Node{Kind: yaml.SequenceNode}
	paths := &yaml.Node{Kind: yaml.MappingNode}
	components := &yaml.Node{Kind: yaml.MappingNode}
	sections := map[string]*yaml.Node{}
	seenPath := map[string]string{}
	seenTag := map[string]string{}
	seenComp := map[string]string{}

	common := srcs[0]
	if len(common.root.Content) > 0 {
		common.root.Content[0].HeadComment = "" // the bundle has its own header
	}
	for i := 0; i < len(common.root.Content); i += 2 {
		k, v := common.root.Content[i], common.root.Content[i+1]
		switch k.Value {
		case familiesKey:
		case "tags":
			out.Content = append(out.Content, k, tags)
		case "paths":
			out.Content = append(out.Content, k, paths)
		case "components":
			out.Content = append(out.Content, k, components)
		default:
			out.Content = append(out.Content, k, v)
		}
	}
	if lookup(common.root, "tags") == nil {
		return nil, fmt.Errorf("%s: needs a tags key (it may be empty)", common.path)
	}
	if lookup(common.root, "paths") == nil {
		return nil, fmt.Errorf("%s: needs a paths key (it may be empty)", common.path)
	}
	if lookup(common.root, "components") == nil {
		return nil, fmt.Errorf("%s: needs a components key", common.path)
	}
	for _, s := range srcs {
		if t := lookup(s.root, "tags"); t != nil {
			for _, tag := range t.Content {
				name := lookup(tag, "name")
				if name == nil {
					return nil, fmt.Errorf("%s: a tag without a name", s.path)
				}
				if prev, dup := seenTag[name.Value]; dup {
					return nil, fmt.Errorf("tag %q is declared in %s and %s", name.Value, prev, s.path)
				}
				seenTag[name.Value] = s.path
				tags.Content = append(tags.Content, tag)
			}
		}
		if p := lookup(s.root, "paths"); p != nil {
			for i := 0; i < len(p.Content); i += 2 {
				k := p.Content[i].Value
				if prev, dup := seenPath[k]; dup {
					return nil, fmt.Errorf("path %s is declared in %s and %s", k, prev, s.path)
				}
				seenPath[k] = s.path
				paths.Content = append(paths.Content, p.Content[i], p.Content[i+1])
			}
		}
		c := lookup(s.root, "components")
		if c == nil {
			continue
		}
		for i := 0; i < len(c.Content); i += 2 {
			sec, body := c.Content[i].Value, c.Content[i+1]
			if !slices.Contains(componentSections, sec) {
				return nil, fmt.Errorf("%s: unknown components section %q", s.path, sec)
			}
			dst := sections[sec]
			if dst == nil {
				dst = &yaml.Node{Kind: yaml.MappingNode}
				sections[sec] = dst
			}
			for j := 0; j < len(body.Content); j += 2 {
				name := sec + "/" + body.Content[j].Value
				if prev, dup := seenComp[name]; dup {
					return nil, fmt.Errorf("component %s is declared in %s and %s", name, prev, s.path)
				}
				seenComp[name] = s.path
				dst.Content = append(dst.Content, body.Content[j], body.Content[j+1])
			}
		}
	}
	for _, sec := range componentSections {
		if n := sections[sec]; n != nil {
			components.Content = append(components.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: sec}, n)
		}
	}
	return out, nil
}

// validate loads the bundle as kin-openapi does at run time and validates it.
func validate(doc []byte) error {
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(doc)
	if err != nil {
		return fmt.Errorf("load bundle: %w", err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		return fmt.Errorf("validate bundle: %w", err)
	}
	return nil
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// checkNames enforces docs/contract.md's naming rules:
//   - every tag of a family file is "<family>: <resource>";
//   - every operation has exactly one tag, of its own file;
//   - every operationId starts with its family (lower camel case: reeProcessList);
//   - every component a family file declares starts with the family in upper
//     camel case (ReeProcessStatus); common.yaml's are shared and unprefixed;
//   - every operation that requires authentication names its scope in
//     x-reehub-scope (read, write or admin), and none that is open does.
func checkNames(srcs []*source) error {
	var errs []error
	defaultSecured := true
	if sec := lookup(srcs[0].root, "security"); sec != nil && len(sec.Content) == 0 {
		defaultSecured = false
	}
	for _, s := range srcs {
		if s.family == "" {
			continue
		}
		prefix := s.family + ": "
		own := map[string]bool{}
		if t := lookup(s.root, "tags"); t != nil {
			for _, tag := range t.Content {
				name := lookup(tag, "name")
				if name == nil || !strings.HasPrefix(name.Value, prefix) || len(name.Value) == len(prefix) {
					errs = append(errs, fmt.Errorf("%s: tag %q must be %q followed by a resource", s.path, valueOf(name), prefix))
					continue
				}
				own[name.Value] = true
			}
		}
		upper := string(unicode.ToUpper(rune(s.family[0]))) + s.family[1:]
		if p := lookup(s.root, "paths"); p != nil {
			for i := 0; i < len(p.Content); i += 2 {
				path, item := p.Content[i].Value, p.Content[i+1]
				for _, m := range methods {
					op := lookup(item, m)
					if op == nil {
						continue
					}
					where := fmt.Sprintf("%s: %s %s", s.path, strings.ToUpper(m), path)
					id := valueOf(lookup(op, "operationId"))
					if !strings.HasPrefix(id, s.family) || len(id) == len(s.family) || !unicode.IsUpper(rune(id[len(s.family)])) {
						errs = append(errs, fmt.Errorf("%s: operationId %q must start with %q and an upper-case letter", where, id, s.family))
					}
					tags := lookup(op, "tags")
					if tags == nil || len(tags.Content) != 1 || !own[tags.Content[0].Value] {
						errs = append(errs, fmt.Errorf("%s: needs exactly one tag declared in its file", where))
					}
					secured := defaultSecured
					if sec := lookup(op, "security"); sec != nil {
						secured = len(sec.Content) > 0
					}
					scope := valueOf(lookup(op, scopeKey))
					switch {
					case secured && !slices.Contains([]string{"read", "write", "admin"}, scope):
						errs = append(errs, fmt.Errorf("%s: %s must be read, write or admin, not %q", where, scopeKey, scope))
					case !secured && scope != "":
						errs = append(errs, fmt.Errorf("%s: an open operation has no %s", where, scopeKey))
					}
				}
			}
		}
		if c := lookup(s.root, "components"); c != nil {
			for i := 0; i < len(c.Content); i += 2 {
				body := c.Content[i+1]
				for j := 0; j < len(body.Content); j += 2 {
					name := body.Content[j].Value
					if !strings.HasPrefix(name, upper) || len(name) == len(upper) || !unicode.IsUpper(rune(name[len(upper)])) {
						errs = append(errs, fmt.Errorf("%s: component %s/%s must start with %q", s.path, c.Content[i].Value, name, upper))
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// lookup returns the value of key in a mapping node, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func valueOf(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}
