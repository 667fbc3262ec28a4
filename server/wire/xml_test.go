package wire_test

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub"
	"github.com/reehub/reehub/server/wire"
)

func TestDecodeXML(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(reehub.OpenAPI())
	require.NoError(t, err)
	schema := func(name string) *openapi3.SchemaRef { return doc.Components.Schemas[name] }
	tests := []struct {
		name, schema, body string
		want               any
		valid              bool
	}{
		{"software", "StudioSoftware", `<software type="array" appliance_id="4"><package version="1.0">vim</package><package>less</package><pattern>ssh-server</pattern></software>`,
			map[string]any{"type": "array", "appliance_id": float64(4), "package": []any{map[string]any{"name": "vim", "version": "1.0"}, map[string]any{"name": "less"}},
				"pattern": []any{map[string]any{"name": "ssh-server"}}}, true},
		{"wrapped list and booleans", "StudioFile", `<file><id>2</id><filename>a</filename><path>/</path><owner>root</owner><group>adm</group><permissions>640</permissions><enabled>true</enabled></file>`,
			nil, true},
		{"missing required element", "StudioFile", `<file><id>2</id></file>`, nil, false},
		{"version text", "StudioApiVersion", `<version>1.0</version>`, map[string]any{"version": "1.0"}, true},
		{"account", "StudioAccount", `<account><username>u</username><displayname>u</displayname><email/><created_at>x</created_at><openid_urls></openid_urls><disk_quota><available>1GB</available><used>0%</used></disk_quota></account>`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := wire.DecodeXML(strings.NewReader(tt.body), nil, schema(tt.schema), nil)
			require.NoError(t, err)
			if tt.want != nil {
				require.Equal(t, tt.want, v)
			}
			verr := schema(tt.schema).Value.VisitJSON(v)
			if tt.valid {
				require.NoError(t, verr)
			} else {
				require.Error(t, verr)
			}
		})
	}
	_, err = wire.DecodeXML(strings.NewReader(`<files type="array"></files>`), nil, schema("StudioSoftware"), nil)
	require.ErrorContains(t, err, "expected <software>")
	_, err = wire.DecodeXML(strings.NewReader(`<software><package>`), nil, schema("StudioSoftware"), nil)
	require.Error(t, err)
}
