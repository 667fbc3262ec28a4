package wire

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// XMLText is the schema extension that marks the property holding an
// element's character data (`<package version="1">vim</package>`: name).
const XMLText = "x-reehub-xml-text"

// node is one parsed XML element.
type node struct {
	name     string
	attrs    map[string]string
	children []*node
	text     strings.Builder
}

func parse(r io.Reader) (*node, error) {
	dec := xml.NewDecoder(r)
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("malformed XML: more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("malformed XML: no root element")
	}
	return root, nil
}

// DecodeXML is a kin-openapi body decoder for application/xml: it reads the
// document with the schema's XML object (name, attribute, wrapped) and the
// x-reehub-xml-text extension into the value the schema describes as JSON, so
// that XML bodies are validated against the same schemas as JSON ones.
// Elements and attributes the schema does not declare are left out (and so
// are caught by required, not by additionalProperties).
func DecodeXML(body io.Reader, _ http.Header, schema *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	root, err := parse(body)
	if err != nil {
		return nil, err
	}
	if schema == nil || schema.Value == nil {
		return nil, errors.New("no schema for the XML body")
	}
	if want := xmlName(schema.Value, ""); want != "" && want != root.name {
		return nil, fmt.Errorf("root element is <%s>, expected <%s>", root.name, want)
	}
	return value(root, schema.Value)
}

func xmlName(s *openapi3.Schema, fallback string) string {
	if s.XML != nil && s.XML.Name != "" {
		return s.XML.Name
	}
	return fallback
}

// value converts an element by its schema.
func value(n *node, s *openapi3.Schema) (any, error) {
	if s.Type.Is(openapi3.TypeObject) || len(s.Properties) > 0 {
		return object(n, s)
	}
	return scalar(strings.TrimSpace(n.text.String()), s)
}

func object(n *node, s *openapi3.Schema) (map[string]any, error) {
	out := map[string]any{}
	for name, ref := range s.Properties {
		p := ref.Value
		if p == nil {
			continue
		}
		elem := xmlName(p, name)
		switch {
		case p.XML != nil && p.XML.Attribute:
			if v, ok := n.attrs[elem]; ok {
				sv, err := scalar(v, p)
				if err != nil {
					return nil, fmt.Errorf("attribute %s of <%s>: %w", elem, n.name, err)
				}
				out[name] = sv
			}
		case p.Extensions[XMLText] == true:
			if t := strings.TrimSpace(n.text.String()); t != "" || len(n.children) == 0 {
				sv, err := scalar(t, p)
				if err != nil {
					return nil, fmt.Errorf("text of <%s>: %w", n.name, err)
				}
				out[name] = sv
			}
		case p.Type.Is(openapi3.TypeArray) && p.Items != nil && p.Items.Value != nil:
			items := p.Items.Value
			holder := []*node{n}
			itemName := xmlName(items, elem)
			if p.XML != nil && p.XML.Wrapped {
				holder = childrenNamed(n, elem)
				if len(holder) == 0 {
					continue
				}
			}
			list := []any{}
			for _, h := range holder {
				for _, c := range childrenNamed(h, itemName) {
					v, err := value(c, items)
					if err != nil {
						return nil, err
					}
					list = append(list, v)
				}
			}
			if len(list) > 0 || (p.XML != nil && p.XML.Wrapped) {
				out[name] = list
			}
		default:
			cs := childrenNamed(n, elem)
			if len(cs) == 0 {
				continue
			}
			if len(cs) > 1 {
				return nil, fmt.Errorf("<%s> holds more than one <%s>", n.name, elem)
			}
			v, err := value(cs[0], p)
			if err != nil {
				return nil, err
			}
			out[name] = v
		}
	}
	return out, nil
}

func childrenNamed(n *node, name string) []*node {
	var out []*node
	for _, c := range n.children {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

func scalar(v string, s *openapi3.Schema) (any, error) {
	switch {
	case s.Type.Is(openapi3.TypeInteger):
		i, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", v)
		}
		return float64(i), nil // the validator's JSON number
	case s.Type.Is(openapi3.TypeNumber):
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		return f, nil
	case s.Type.Is(openapi3.TypeBoolean):
		switch v {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not true or false", v)
	}
	return v, nil
}
