package studio

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const markerUnit = "[Unit]\nDescription=marker\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n"

func TestEnableable(t *testing.T) {
	for _, tt := range []struct {
		dst, content string
		want         bool
	}{
		{"/etc/systemd/system/m.service", markerUnit, true},
		{"/usr/lib/systemd/system/m.timer", "[Timer]\nOnBootSec=1\n[Install]\nWantedBy = timers.target\n", true},
		{"/etc/systemd/system/m.service", "[Unit]\nDescription=no install section\n[Service]\nExecStart=/bin/true\n", false},
		{"/etc/systemd/system/m.service", "[Install]\n# WantedBy=multi-user.target\n", false},
		{"/etc/systemd/system/m@.service", markerUnit, false},         // a template needs an instance
		{"/etc/systemd/system/m.conf", markerUnit, false},             // not a unit
		{"/etc/systemd/system/m.service.d/x.conf", markerUnit, false}, // a drop-in
		{"/etc/reehub/m.service", markerUnit, false},                  // not a unit directory
		{"/etc/systemd/system/.service", markerUnit, false},
	} {
		require.Equal(t, tt.want, enableable(tt.dst, []byte(tt.content)), tt.dst)
	}
}

func TestDependEntry(t *testing.T) {
	d, ok := dependEntry("/etc/systemd/system/multi-user.target.wants/m.service")
	require.True(t, ok)
	require.Equal(t, unitDepend{verb: "add-wants", target: "multi-user.target", unit: "m.service"}, d)
	d, ok = dependEntry("/etc/systemd/system/local-fs.target.requires/srv.mount")
	require.True(t, ok)
	require.Equal(t, unitDepend{verb: "add-requires", target: "local-fs.target", unit: "srv.mount"}, d)
	for _, dst := range []string{
		"/etc/systemd/system/m.service",
		"/etc/systemd/system/multi-user.target.wants/notes.txt",
		"/etc/systemd/system/wants/m.service",
		"/etc/reehub/multi-user.target.wants/m.service",
		"/etc/systemd/system/multi-user.target.wants/sub/m.service",
	} {
		_, ok := dependEntry(dst)
		require.False(t, ok, dst)
	}
}

func TestUnitStep(t *testing.T) {
	require.Empty(t, unitServices{}.step())
	u := unitServices{enable: []string{"a.service", "b.timer"}, deps: []unitDepend{{"add-wants", "multi-user.target", "a.service"}}}
	require.Equal(t, "RUN if command -v systemctl >/dev/null; then systemctl enable a.service b.timer && systemctl add-wants multi-user.target a.service; fi\n", u.step())
}
