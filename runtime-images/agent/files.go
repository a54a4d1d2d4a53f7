package main

// PUT /files/<root>: the function's files, for an instance that runs where the control plane's
// files are not (the swarm driver: its nodes are other machines). The body is a tar stream;
// it is unpacked into the directory LAMBKIN_FILE_ROOTS names for <root> (/var/task, /opt),
// only while the instance is vacant, so nothing the function runs can ever be changed by it.
//
// The files belong to the agent's user (root) and keep only their permission bits (no setuid,
// setgid or sticky), so the function's user can read and run them but not change them. Only
// directories, regular files and symbolic links are taken; a name that leaves the root, or
// goes through a link the tar made, is refused: the link could point anywhere, and writing
// through it would write outside the root as root.

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

var errNotVacant = &apiError{409, "NotVacant", "files can be added only before the instance has its function"}

// untar unpacks r into root (which must exist); it returns the number of entries written.
func untar(r io.Reader, root string) (int, error) {
	tr := tar.NewReader(r)
	links := map[string]bool{} // the names of the symbolic links made so far
	count := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return count, nil
		}
		if err != nil {
			return count, errors.New("not a tar stream: " + err.Error())
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return count, errors.New("refusing " + pyRepr(h.Name) + ": it leaves the root")
		}
		for parent := path.Dir(name); parent != "."; parent = path.Dir(parent) {
			if links[parent] {
				return count, errors.New("refusing " + pyRepr(h.Name) + ": it goes through a link")
			}
		}
		target := filepath.Join(root, filepath.FromSlash(name))
		mode := os.FileMode(h.Mode) & os.ModePerm
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return count, err
			}
			err = os.Chmod(target, mode|0o700)
		case tar.TypeReg:
			err = writeFile(target, tr, mode)
		case tar.TypeSymlink:
			links[name] = true
			err = os.Symlink(h.Linkname, target)
		default:
			return count, errors.New("refusing " + pyRepr(h.Name) + ": only directories, files and symbolic links")
		}
		if err != nil {
			return count, err
		}
		count++
	}
}

func writeFile(target string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode | 0o600); err != nil { // (the umask may have taken bits)
		f.Close()
		return err
	}
	return f.Close()
}

// putFiles serves PUT /files/<root>.
func (c *controlServer) putFiles(w *response, r *request, path string) {
	root, ok := c.fileRoots[strings.TrimPrefix(path, "/files/")]
	if !ok || !strings.HasPrefix(path, "/files/") {
		replyError(w, 404, "NotFound", "no route for PUT "+path)
		return
	}
	var count int
	err := c.sandbox.whileVacant(func() error {
		var err error
		count, err = untar(r.body, root)
		return err
	})
	var refused *apiError
	if errors.As(err, &refused) {
		replyError(w, refused.status, refused.errorType, refused.message)
		return
	}
	if err != nil {
		replyError(w, 400, "InvalidFiles", err.Error())
		return
	}
	reply(w, 200, "application/json", []byte(`{"entries": `+strconv.Itoa(count)+`}`), nil)
}
