package main

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type tarEntry struct {
	name, body, link string
	kind             byte
	mode             int64
}

func tarOf(t *testing.T, entries []tarEntry) *bytes.Buffer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.kind, Mode: e.mode, Size: int64(len(e.body)), Linkname: e.link}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	return &buf
}

func TestUntarWritesFilesWithoutSpecialBits(t *testing.T) {
	root := t.TempDir()
	_, err := untar(tarOf(t, []tarEntry{
		{name: "lib/", kind: tar.TypeDir, mode: 0o755},
		{name: "lib/app.py", body: "print(1)", kind: tar.TypeReg, mode: 0o4755},
		{name: "link", link: "lib/app.py", kind: tar.TypeSymlink},
	}), root)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(root, "lib", "app.py"))
	if err != nil || info.Mode() != 0o755 {
		t.Fatalf("mode %v, %v", info.Mode(), err)
	}
	if body, _ := os.ReadFile(filepath.Join(root, "link")); string(body) != "print(1)" {
		t.Fatalf("link reads %q", body)
	}
}

func TestUntarRefuses(t *testing.T) {
	cases := map[string][]tarEntry{
		"leaves the root":  {{name: "../evil", kind: tar.TypeReg, mode: 0o644}},
		"absolute":         {{name: "/etc/evil", kind: tar.TypeReg, mode: 0o644}},
		"through a link":   {{name: "etc", link: "/etc", kind: tar.TypeSymlink}, {name: "etc/evil", kind: tar.TypeReg, mode: 0o644}},
		"device":           {{name: "dev", kind: tar.TypeChar}},
		"hard link":        {{name: "a", kind: tar.TypeReg}, {name: "b", link: "a", kind: tar.TypeLink}},
		"deep though link": {{name: "d", link: "/", kind: tar.TypeSymlink}, {name: "d/x/y", kind: tar.TypeReg}},
	}
	for what, entries := range cases {
		root := t.TempDir()
		if _, err := untar(tarOf(t, entries), root); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("%s: %v", what, err)
		}
	}
}
