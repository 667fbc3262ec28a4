package server

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
)

func TestStudioXML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"success", xmlSuccess{}, "<success></success>"},
		{"version", xmlAPIVersion{Version: "1.0"}, "<version>1.0</version>"},
		{"collection", xmlBuilds{Type: arrayType, Build: []xmlBuild{}}, `<builds type="array"></builds>`},
		{"boolean and text", xmlSoftware{Type: arrayType, ApplianceID: 4, Package: []xmlPackage{{Name: "vim", Version: "2:9.0"}}},
			`<software type="array" appliance_id="4"><package version="2:9.0">vim</package></software>`},
		{"empty list element", xmlAccount{OpenIDURLs: openIDs{}}, "<openid_urls></openid_urls>"},
		{"file", xmlFile{Enabled: false, Permissions: "0640"}, "<permissions>0640</permissions><enabled>false</enabled>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf, err := xmlDoc(tt.v)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(buf.String(), xml.Header))
			require.Contains(t, buf.String(), tt.want)
		})
	}
}

func TestStudioCodesAndAccept(t *testing.T) {
	t.Parallel()
	require.Equal(t, "missing_appliance_id", studioCode(400, fault.Invalidf("query parameter appliance_id: value is required but missing")))
	require.Equal(t, "access_denied", studioCode(401, fault.New(fault.ErrUnauthenticated, "x")))
	require.Equal(t, "internal_error", studioCode(500, fault.Invalidf("x")))
	require.Equal(t, "invalid_request", studioCode(400, fault.Invalidf("x")))
	require.True(t, acceptsJSON([]string{"application/json"}))
	require.True(t, acceptsJSON([]string{"text/plain, application/json;q=0.9"}))
	require.False(t, acceptsJSON([]string{"application/xml, application/json"}))
	require.False(t, acceptsJSON([]string{"*/*"}))
	require.False(t, acceptsJSON(nil))
	require.True(t, studioPath("/api/v1/user/appliances"))
	require.True(t, studioPath("/user/show_api_key"))
	require.False(t, studioPath("/api/v1/users"))
}
