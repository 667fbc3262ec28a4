package studio

import (
	"bufio"
	"bytes"
	"path"
	"slices"
	"strings"
)

// systemdUnitDirs are the directories whose overlay unit files a build
// enables: the administrator's (/etc/systemd/system) and the vendor's.
var systemdUnitDirs = []string{"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

// installableSuffixes are the unit types `systemctl enable` acts on.
var installableSuffixes = []string{".service", ".socket", ".timer", ".path", ".target", ".mount", ".automount", ".swap"}

// unitServices is what the overlay files of an appliance ask of systemd:
// the units to enable and the dependency entries to make. systemd reads an
// entry of a unit's .wants or .requires directory only when it is a symlink
// (systemd 252, Debian 12, logs "dependency dropin ... is not a symlink,
// ignoring" and drops it), and overlay files are regular files, so a build
// makes those entries itself, with systemctl, as KIWI's config.sh did with
// baseInsertService.
type unitServices struct {
	enable []string     // unit files with an [Install] section, enabled by name
	deps   []unitDepend // regular files in a .wants or .requires directory
}

// unitDepend is an overlay file that stands for a symlink in a unit's
// .wants or .requires directory.
type unitDepend struct {
	verb   string // add-wants or add-requires
	target string // the unit that wants or requires, such as multi-user.target
	unit   string // the unit wanted, such as reehub-marker.service
}

// dependEntry reports whether the overlay destination dst is an entry of a
// .wants or .requires directory in /etc/systemd/system, which systemd only
// follows when it is a symlink.
func dependEntry(dst string) (unitDepend, bool) {
	dir, name := path.Split(dst)
	parent, sub := path.Split(strings.TrimSuffix(dir, "/"))
	if path.Clean(parent) != "/etc/systemd/system" || !installable(name) {
		return unitDepend{}, false
	}
	for _, kind := range []string{"wants", "requires"} {
		if target, ok := strings.CutSuffix(sub, "."+kind); ok && target != "" && strings.Contains(target, ".") {
			return unitDepend{verb: "add-" + kind, target: target, unit: name}, true
		}
	}
	return unitDepend{}, false
}

// installable reports whether name is a unit name systemctl can enable by
// itself: a known type, not a template (foo@.service needs an instance).
func installable(name string) bool {
	if strings.HasPrefix(name, ".") || strings.ContainsAny(name, " \t'\"\\$`") || strings.Contains(name, "@.") {
		return false
	}
	return slices.ContainsFunc(installableSuffixes, func(s string) bool { return strings.HasSuffix(name, s) && len(name) > len(s) })
}

// enableable reports whether the overlay file at dst with content is a
// unit file that `systemctl enable` acts on: directly in a unit directory,
// an installable name, and an [Install] section that says what wants it.
func enableable(dst string, content []byte) bool {
	dir, name := path.Split(dst)
	if !slices.Contains(systemdUnitDirs, path.Clean(dir)) || !installable(name) {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	install := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			install = line == "[Install]"
			continue
		}
		if !install {
			continue
		}
		key, _, ok := strings.Cut(line, "=")
		if ok && slices.Contains([]string{"WantedBy", "RequiredBy", "UpheldBy", "Also", "Alias"}, strings.TrimSpace(key)) {
			return true
		}
	}
	return false
}

// step is the Dockerfile RUN step that enables the units and makes the
// dependency entries, or "" when there is nothing to do. It runs after
// every overlay file is in place (systemctl finds units by name). An
// appliance without systemd (a container of the JeOS template) cannot run
// units: the step then does nothing.
func (u unitServices) step() string {
	var cmds []string
	if len(u.enable) > 0 {
		cmds = append(cmds, "systemctl enable "+strings.Join(u.enable, " "))
	}
	for _, d := range u.deps {
		cmds = append(cmds, "systemctl "+d.verb+" "+d.target+" "+d.unit)
	}
	if len(cmds) == 0 {
		return ""
	}
	return "RUN if command -v systemctl >/dev/null; then " + strings.Join(cmds, " && ") + "; fi\n"
}
