package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kubedyn/kubedyn/unstructured"
)

// LoadOptions tune Load. Nil means defaults. Load only reads them.
type LoadOptions struct {
	// Recursive walks folders below the folders named (kubectl's -R);
	// without it only the files directly inside a named folder are read.
	Recursive bool
	// Stdin is read for the path "-"; nil means os.Stdin.
	Stdin io.Reader
	// MaxDocuments caps the documents of each file, as in
	// unstructured.DecodeOptions; 0 means its default.
	MaxDocuments int
}

// manifestExt are the file extensions a folder's manifests have, as in
// kubectl.
var manifestExt = []string{".yaml", ".yml", ".json"}

// Load reads the manifests at paths: files (any name), folders (their
// .yaml, .yml and .json files in lexical order, below them too with
// opts.Recursive) and "-" for standard input. Every object remembers its
// file, document and line (unstructured.Source).
//
// Nothing is sent anywhere. A file that cannot be read, a folder without
// manifests and a document that does not decode (the error names the file,
// document and line, as *unstructured.DecodeError) fail the whole load: a
// partial set would apply some objects and silently leave others out.
func Load(paths []string, opts *LoadOptions) ([]unstructured.Decoded, error) {
	var o LoadOptions
	if opts != nil {
		o = *opts
	}
	if len(paths) == 0 {
		return nil, errors.New("load manifests: no path given")
	}
	var out []unstructured.Decoded
	stdinRead := false
	for _, p := range paths {
		if p == "-" {
			if stdinRead {
				return nil, errors.New("load manifests: standard input (-) named twice")
			}
			stdinRead = true
			in := o.Stdin
			if in == nil {
				in = os.Stdin
			}
			data, err := io.ReadAll(in)
			if err != nil {
				return nil, fmt.Errorf("load manifests: read standard input: %w", err)
			}
			objs, err := unstructured.DecodeManifest(data, &unstructured.DecodeOptions{Source: "<stdin>", MaxDocuments: o.MaxDocuments})
			if err != nil {
				return nil, fmt.Errorf("load manifests: %w", err)
			}
			out = append(out, objs...)
			continue
		}
		files, err := manifestFiles(p, o.Recursive)
		if err != nil {
			return nil, fmt.Errorf("load manifests: %w", err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("load manifests: %w", err)
			}
			objs, err := unstructured.DecodeManifest(data, &unstructured.DecodeOptions{Source: f, MaxDocuments: o.MaxDocuments})
			if err != nil {
				return nil, fmt.Errorf("load manifests: %w", err)
			}
			out = append(out, objs...)
		}
	}
	return out, nil
}

// manifestFiles lists the files path stands for.
func manifestFiles(path string, recursive bool) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if slices.Contains(manifestExt, strings.ToLower(filepath.Ext(p))) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no .yaml, .yml or .json files in the folder", path)
	}
	slices.Sort(files)
	return files, nil
}
