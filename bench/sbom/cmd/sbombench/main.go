// Command sbombench compares reehub's SBOM package lists with syft's on the
// same input and prints recall, purl agreement and the time ratio.
//
//	sbombench scan TARGET OUT      write reehub's CycloneDX SBOM of TARGET to OUT
//	sbombench compare -syft BIN [-runs N] TARGET...
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sbombench scan TARGET OUT | compare -syft BIN TARGET...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "scan":
		err = scan(os.Args[2], os.Args[3])
	case "compare":
		err = compare(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sbombench:", err)
		os.Exit(1)
	}
}

func scan(target, out string) error {
	ctx := context.Background()
	fi, err := os.Stat(target)
	if err != nil {
		return err
	}
	var src rootfs.Source
	if fi.IsDir() {
		src, err = rootfs.OpenDir(target)
	} else {
		src, err = rootfs.OpenArchive(ctx, target, &rootfs.ArchiveOptions{Keep: sbom.Keep(nil)})
	}
	if err != nil {
		return err
	}
	defer src.Close()
	doc, err := sbom.Scan(ctx, src, nil)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	return doc.WriteCycloneDX(f)
}

// pkg is the identity compared.
type pkg struct{ Type, Name, Version, PURL string }

func compare(args []string) error {
	fl := flag.NewFlagSet("compare", flag.ExitOnError)
	syft := fl.String("syft", "syft", "syft binary")
	runs := fl.Int("runs", 3, "timed runs of each tool (the fastest counts)")
	work := fl.String("work", os.TempDir(), "directory for outputs")
	_ = fl.Parse(args)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var total struct{ deb, debHit, py, pyHit, nv, nvPurl int }
	var tReehub, tSyft time.Duration
	fmt.Printf("%-40s %6s %6s %6s %6s %9s %9s\n", "target", "deb", "deb-ok", "python", "py-ok", "reehub", "syft")
	for i, target := range fl.Args() {
		rOut := filepath.Join(*work, fmt.Sprintf("reehub-%d.cdx.json", i))
		sOut := filepath.Join(*work, fmt.Sprintf("syft-%d.json", i))
		syftTarget := "dir:" + target
		if fi, err := os.Stat(target); err == nil && !fi.IsDir() {
			syftTarget = "docker-archive:" + target
			if isOCI(target) {
				syftTarget = "oci-archive:" + target
			}
		}
		rt, err := best(*runs, self, "scan", target, rOut)
		if err != nil {
			return fmt.Errorf("reehub on %s: %w", target, err)
		}
		st, err := best(*runs, *syft, "scan", syftTarget, "-q", "-o", "syft-json="+sOut)
		if err != nil {
			return fmt.Errorf("syft on %s: %w", target, err)
		}
		mine, err := readReehub(rOut)
		if err != nil {
			return err
		}
		theirs, err := readSyft(sOut)
		if err != nil {
			return err
		}
		exact := map[pkg]bool{}
		byNV := map[[3]string]string{}
		for _, p := range mine {
			exact[p] = true
			byNV[[3]string{p.Type, p.Name, p.Version}] = p.PURL
		}
		var deb, debHit, py, pyHit int
		var missing []string
		for _, p := range theirs {
			if p.Type != "deb" && p.Type != "python" {
				continue
			}
			if p.Type == "deb" {
				deb++
			} else {
				py++
			}
			if exact[p] {
				if p.Type == "deb" {
					debHit++
				} else {
					pyHit++
				}
			} else {
				missing = append(missing, fmt.Sprintf("%s %s %s %s", p.Type, p.Name, p.Version, p.PURL))
			}
			if purl, ok := byNV[[3]string{p.Type, p.Name, p.Version}]; ok {
				total.nv++
				if purl == p.PURL {
					total.nvPurl++
				}
			}
		}
		sort.Strings(missing)
		for _, m := range missing {
			fmt.Printf("  not matched: %s (reehub purl %q)\n", m, byNVPurl(byNV, m))
		}
		total.deb += deb
		total.debHit += debHit
		total.py += py
		total.pyHit += pyHit
		tReehub += rt
		tSyft += st
		fmt.Printf("%-40s %6d %6d %6d %6d %8.2fs %8.2fs\n", filepath.Base(target), deb, debHit, py, pyHit, rt.Seconds(), st.Seconds())
	}
	fmt.Printf("sbom: dpkg recall %s, python recall %s, purl match %s, time %.1fx faster than syft\n",
		pct(total.debHit, total.deb), pct(total.pyHit, total.py), pct(total.nvPurl, total.nv), tSyft.Seconds()/tReehub.Seconds())
	return nil
}

func byNVPurl(m map[[3]string]string, line string) string {
	var t, n, v, p string
	fmt.Sscan(line, &t, &n, &v, &p)
	return m[[3]string{t, n, v}]
}

func pct(a, b int) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}

func isOCI(path string) bool {
	src, err := rootfs.OpenArchive(context.Background(), path, &rootfs.ArchiveOptions{Keep: func(string, fs.FileMode, int64) bool { return false }})
	if err != nil {
		return false
	}
	defer src.Close()
	return src.Describe().Kind == rootfs.KindOCIArchive
}

// best runs a command n times and returns the fastest wall time.
func best(n int, name string, args ...string) (time.Duration, error) {
	var min time.Duration
	for i := 0; i < n; i++ {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false")
		cmd.Stderr = os.Stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return 0, err
		}
		if d := time.Since(start); i == 0 || d < min {
			min = d
		}
	}
	return min, nil
}

func readReehub(path string) ([]pkg, error) {
	var doc struct {
		Components []struct {
			Group      string `json:"group"`
			Name       string `json:"name"`
			Version    string `json:"version"`
			PURL       string `json:"purl"`
			Properties []struct{ Name, Value string }
		} `json:"components"`
	}
	if err := readJSON(path, &doc); err != nil {
		return nil, err
	}
	out := make([]pkg, 0, len(doc.Components))
	for _, c := range doc.Components {
		p := pkg{Name: c.Name, Version: c.Version, PURL: c.PURL}
		if c.Group != "" {
			p.Name = c.Group + "/" + c.Name
		}
		for _, pr := range c.Properties {
			if pr.Name == "reehub:package:type" {
				p.Type = pr.Value
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func readSyft(path string) ([]pkg, error) {
	var doc struct {
		Artifacts []struct {
			Name, Version, Type, PURL, FoundBy string
		} `json:"artifacts"`
	}
	if err := readJSON(path, &doc); err != nil {
		return nil, err
	}
	out := make([]pkg, 0, len(doc.Artifacts))
	for _, a := range doc.Artifacts {
		if a.FoundBy == "deb-archive-cataloger" {
			continue // *.deb files lying around (apt's cache) are not installed packages
		}
		out = append(out, pkg{Type: a.Type, Name: a.Name, Version: a.Version, PURL: a.PURL})
	}
	return out, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
