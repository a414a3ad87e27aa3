package kubeconfig

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// MaxFileSize is the largest kubeconfig file or document accepted, 16 MiB.
// A larger input is refused before it is parsed.
const MaxFileSize = 16 << 20

// ErrNoConfig reports that nothing is configured: no kubeconfig file was
// found (or the files found are empty) and the program does not run inside
// a cluster. Load returns an error that matches it with errors.Is.
var ErrNoConfig = errors.New("kubeconfig: no configuration found (no kubeconfig file and not running in a cluster)")

// Error describes a broken kubeconfig: the file it came from, the field at
// fault (such as users["u"].client-certificate-data) and the cause.
// Errors are plain values and safe to share.
type Error struct {
	// Path is the file the entry came from; "" for a document given as bytes.
	Path string
	// Field names the entry and field, such as contexts["dev"].cluster; it
	// may be empty when the whole file is at fault.
	Field string
	// Err is the cause.
	Err error
}

// Error reads like `kubeconfig /home/me/.kube/config: users["me"].token: ...`;
// "(data)" stands for the file of a document given as bytes.
func (e *Error) Error() string {
	where := e.Path
	if where == "" {
		where = "(data)"
	}
	if e.Field == "" {
		return fmt.Sprintf("kubeconfig %s: %v", where, e.Err)
	}
	return fmt.Sprintf("kubeconfig %s: %s: %v", where, e.Field, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// File is a parsed kubeconfig, or several merged by kubectl's rules. Paths
// in it (certificate files, token files, exec commands containing a path
// separator) are already resolved against the folder of the file that
// defined them.
//
// A File is a plain value: it is safe for concurrent reads, not for
// concurrent modification.
type File struct {
	// Sources are the files that were read, in order; empty for bytes.
	Sources []string
	// CurrentContext is the context used when Options.Context is empty.
	CurrentContext string
	// Clusters are the clusters[] entries, keyed by name.
	Clusters map[string]*Cluster
	// Users are the users[] entries, keyed by name.
	Users map[string]*User
	// Contexts are the contexts[] entries, keyed by name.
	Contexts map[string]*Context
}

// Cluster is one entry of clusters[]. Like File, it is safe for concurrent
// reads, not for concurrent modification.
type Cluster struct {
	// Name is the entry's name.
	Name string
	// Source is the file that defined the entry ("" for bytes).
	Source string
	// Server is the API server's URL (server).
	Server string
	// CertificateAuthority is the CA file (certificate-authority), resolved
	// against the kubeconfig's folder.
	CertificateAuthority string
	// CertificateAuthorityData is the decoded certificate-authority-data.
	CertificateAuthorityData []byte
	// InsecureSkipTLSVerify is insecure-skip-tls-verify.
	InsecureSkipTLSVerify bool
	// TLSServerName is tls-server-name, the name checked in the server's
	// certificate.
	TLSServerName string
	// ProxyURL is proxy-url (http, https or socks5).
	ProxyURL string
	// DisableCompression is disable-compression: no gzip is asked for
	// (transport.Config.DisableCompression).
	DisableCompression bool
	// ExecExtension is the raw JSON of the extension named
	// "client.authentication.k8s.io/exec", passed to exec plugins that ask
	// for cluster information.
	ExecExtension json.RawMessage
}

// User is one entry of users[] (kubectl's authInfo). Like File, it is safe
// for concurrent reads, not for concurrent modification.
type User struct {
	// Name is the entry's name.
	Name string
	// Source is the file that defined the entry ("" for bytes).
	Source string
	// ClientCertificate is the client-certificate file, resolved against
	// the kubeconfig's folder.
	ClientCertificate string
	// ClientCertificateData is the decoded client-certificate-data.
	ClientCertificateData []byte
	// ClientKey is the client-key file, resolved like ClientCertificate.
	ClientKey string
	// ClientKeyData is the decoded client-key-data.
	ClientKeyData []byte
	// Token is the static bearer token (token).
	Token string
	// TokenFile is tokenFile, resolved against the kubeconfig's folder;
	// transport re-reads it and prefers it to Token.
	TokenFile string
	// Username is the basic-auth user name (username).
	Username string
	// Password is the basic-auth password (password).
	Password string
	// Impersonate is the user to act as (as).
	Impersonate string
	// ImpersonateUID is as-uid.
	ImpersonateUID string
	// ImpersonateGroups is as-groups.
	ImpersonateGroups []string
	// ImpersonateUserExtra is as-user-extra.
	ImpersonateUserExtra map[string][]string
	// Exec configures an exec credential plugin; nil when there is none.
	Exec *ExecConfig
	// AuthProvider is the name of a legacy auth-provider plugin, which is
	// not supported; Config refuses a user that sets it.
	AuthProvider string
}

// Context is one entry of contexts[]. Like File, it is safe for concurrent
// reads, not for concurrent modification.
type Context struct {
	// Name is the entry's name.
	Name string
	// Source is the file that defined the entry ("" for bytes).
	Source string
	// Cluster names the clusters[] entry.
	Cluster string
	// User names the users[] entry; empty means no credentials.
	User string
	// Namespace is the default namespace; empty means "default".
	Namespace string
}

// ExecConfig is a user's exec credential plugin (users[].user.exec). It is
// a plain value; NewExecProvider copies it.
type ExecConfig struct {
	// APIVersion is client.authentication.k8s.io/v1 or /v1beta1.
	APIVersion string `json:"apiVersion"`
	// Command is the program; one containing a path separator has been
	// resolved against the kubeconfig's folder.
	Command string `json:"command"`
	// Args are the program's arguments.
	Args []string `json:"args"`
	// Env are variables added to the inherited environment.
	Env []ExecEnvVar `json:"env"`
	// InstallHint is quoted in the error when the program is missing.
	InstallHint string `json:"installHint"`
	// ProvideClusterInfo passes the cluster (server, CA, the exec
	// extension) in KUBERNETES_EXEC_INFO.
	ProvideClusterInfo bool `json:"provideClusterInfo"`
	// InteractiveMode is Never, IfAvailable or Always. Plugins never get a
	// terminal here, so Always is refused.
	InteractiveMode string `json:"interactiveMode"`
}

// ExecEnvVar is one extra environment variable for an exec plugin, added
// to the inherited environment. It is a plain value.
type ExecEnvVar struct {
	// Name is the variable's name.
	Name string `json:"name"`
	// Value is its value.
	Value string `json:"value"`
}

// ContextNames returns the names of all contexts, sorted.
func (f *File) ContextNames() []string {
	names := make([]string, 0, len(f.Contexts))
	for n := range f.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// IsEmpty reports whether f configures nothing at all.
func (f *File) IsEmpty() bool {
	return f.CurrentContext == "" && len(f.Clusters) == 0 && len(f.Users) == 0 && len(f.Contexts) == 0
}

// wire structs: the kubeconfig format as written on disk.

type wireFile struct {
	CurrentContext string        `json:"current-context"`
	Clusters       []wireCluster `json:"clusters"`
	Users          []wireUser    `json:"users"`
	Contexts       []wireContext `json:"contexts"`
}

type wireCluster struct {
	Name    string `json:"name"`
	Cluster *struct {
		Server                   string          `json:"server"`
		CertificateAuthority     string          `json:"certificate-authority"`
		CertificateAuthorityData string          `json:"certificate-authority-data"`
		InsecureSkipTLSVerify    bool            `json:"insecure-skip-tls-verify"`
		TLSServerName            string          `json:"tls-server-name"`
		ProxyURL                 string          `json:"proxy-url"`
		DisableCompression       bool            `json:"disable-compression"`
		Extensions               []wireExtension `json:"extensions"`
	} `json:"cluster"`
}

type wireExtension struct {
	Name      string          `json:"name"`
	Extension json.RawMessage `json:"extension"`
}

type wireUser struct {
	Name string `json:"name"`
	User *struct {
		ClientCertificate     string              `json:"client-certificate"`
		ClientCertificateData string              `json:"client-certificate-data"`
		ClientKey             string              `json:"client-key"`
		ClientKeyData         string              `json:"client-key-data"`
		Token                 string              `json:"token"`
		TokenFile             string              `json:"tokenFile"`
		Impersonate           string              `json:"as"`
		ImpersonateUID        string              `json:"as-uid"`
		ImpersonateGroups     []string            `json:"as-groups"`
		ImpersonateUserExtra  map[string][]string `json:"as-user-extra"`
		Username              string              `json:"username"`
		Password              string              `json:"password"`
		AuthProvider          *struct {
			Name string `json:"name"`
		} `json:"auth-provider"`
		Exec *ExecConfig `json:"exec"`
	} `json:"user"`
}

type wireContext struct {
	Name    string `json:"name"`
	Context *struct {
		Cluster   string `json:"cluster"`
		User      string `json:"user"`
		Namespace string `json:"namespace"`
	} `json:"context"`
}

const execExtensionName = "client.authentication.k8s.io/exec"

// Parse parses one kubeconfig document (YAML or JSON). Relative paths in it
// stay as written, relative to the working directory. Use ReadFile to
// resolve them against a file's folder.
func Parse(data []byte) (*File, error) {
	return parse(data, "")
}

// ReadFile reads and parses one kubeconfig file, resolving relative paths
// against its folder. A missing file gives an error matching fs.ErrNotExist.
func ReadFile(path string) (*File, error) {
	data, err := readCapped(path)
	if err != nil {
		return nil, err
	}
	return parse(data, path)
}

func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	if len(data) > MaxFileSize {
		return nil, &Error{Path: path, Err: fmt.Errorf("file is larger than %d bytes", MaxFileSize)}
	}
	return data, nil
}

// parse decodes data; path, when set, names the file for errors and is the
// base for relative paths.
func parse(data []byte, path string) (*File, error) {
	fail := func(field string, err error) error { return &Error{Path: path, Field: field, Err: err} }
	if len(data) > MaxFileSize {
		return nil, fail("", fmt.Errorf("document is larger than %d bytes", MaxFileSize))
	}
	var w wireFile
	if err := yaml.Unmarshal(data, &w); err != nil {
		return nil, fail("", err)
	}
	dir := ""
	if path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fail("", err)
		}
		dir = filepath.Dir(abs)
	}
	resolve := func(p string) string {
		if p == "" || dir == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	f := &File{
		CurrentContext: w.CurrentContext,
		Clusters:       map[string]*Cluster{},
		Users:          map[string]*User{},
		Contexts:       map[string]*Context{},
	}
	if path != "" {
		f.Sources = []string{path}
	}
	// Within one file a name may appear once per list: kubectl refuses a
	// file with two clusters (users, contexts) of the same name rather than
	// pick one.
	for i, wc := range w.Clusters {
		_, dup := f.Clusters[wc.Name]
		if err := checkEntryName(path, "clusters", i, wc.Name, dup); err != nil {
			return nil, err
		}
		field := fmt.Sprintf("clusters[%q]", wc.Name)
		c := &Cluster{Name: wc.Name, Source: path}
		if wc.Cluster != nil {
			wcc := wc.Cluster
			c.Server = wcc.Server
			c.CertificateAuthority = resolve(wcc.CertificateAuthority)
			ca, err := decodeBase64(wcc.CertificateAuthorityData)
			if err != nil {
				return nil, fail(field+".certificate-authority-data", err)
			}
			c.CertificateAuthorityData = ca
			c.InsecureSkipTLSVerify = wcc.InsecureSkipTLSVerify
			c.TLSServerName = wcc.TLSServerName
			c.ProxyURL = wcc.ProxyURL
			c.DisableCompression = wcc.DisableCompression
			for _, ext := range wcc.Extensions {
				if ext.Name == execExtensionName {
					c.ExecExtension = ext.Extension
				}
			}
		}
		f.Clusters[wc.Name] = c
	}
	for i, wu := range w.Users {
		_, dup := f.Users[wu.Name]
		if err := checkEntryName(path, "users", i, wu.Name, dup); err != nil {
			return nil, err
		}
		field := fmt.Sprintf("users[%q]", wu.Name)
		u := &User{Name: wu.Name, Source: path}
		if wu.User != nil {
			wuu := wu.User
			var err error
			u.ClientCertificate = resolve(wuu.ClientCertificate)
			if u.ClientCertificateData, err = decodeBase64(wuu.ClientCertificateData); err != nil {
				return nil, fail(field+".client-certificate-data", err)
			}
			u.ClientKey = resolve(wuu.ClientKey)
			if u.ClientKeyData, err = decodeBase64(wuu.ClientKeyData); err != nil {
				return nil, fail(field+".client-key-data", err)
			}
			u.Token = wuu.Token
			u.TokenFile = resolve(wuu.TokenFile)
			u.Username = wuu.Username
			u.Password = wuu.Password
			u.Impersonate = wuu.Impersonate
			u.ImpersonateUID = wuu.ImpersonateUID
			u.ImpersonateGroups = wuu.ImpersonateGroups
			u.ImpersonateUserExtra = wuu.ImpersonateUserExtra
			if wuu.AuthProvider != nil {
				u.AuthProvider = wuu.AuthProvider.Name
				if u.AuthProvider == "" {
					u.AuthProvider = "(unnamed)"
				}
			}
			if wuu.Exec != nil {
				e := *wuu.Exec
				if e.Command == "" {
					return nil, fail(field+".exec.command", errors.New("missing"))
				}
				if strings.ContainsRune(e.Command, filepath.Separator) || strings.ContainsRune(e.Command, '/') {
					e.Command = resolve(e.Command)
				}
				u.Exec = &e
			}
		}
		f.Users[wu.Name] = u
	}
	for i, wx := range w.Contexts {
		_, dup := f.Contexts[wx.Name]
		if err := checkEntryName(path, "contexts", i, wx.Name, dup); err != nil {
			return nil, err
		}
		x := &Context{Name: wx.Name, Source: path}
		if wx.Context != nil {
			x.Cluster = wx.Context.Cluster
			x.User = wx.Context.User
			x.Namespace = wx.Context.Namespace
		}
		f.Contexts[wx.Name] = x
	}
	return f, nil
}

// checkEntryName refuses entry i of list (clusters, users or contexts) in
// the file at path when its name is missing or already taken in that file.
func checkEntryName(path, list string, i int, name string, taken bool) error {
	field := fmt.Sprintf("%s[%d]", list, i)
	switch {
	case name == "":
		return &Error{Path: path, Field: field, Err: errors.New("missing name")}
	case taken:
		return &Error{Path: path, Field: field, Err: fmt.Errorf("duplicate name %q", name)}
	}
	return nil
}

func decodeBase64(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("invalid base64: %w", err)
	}
	return b, nil
}

// Merge combines files by kubectl's rules: the first file to define a
// cluster, user or context of a given name wins, and the first non-empty
// current-context wins. Nil files are skipped. The inputs are not modified;
// the result shares their entries.
func Merge(files ...*File) *File {
	out := &File{
		Clusters: map[string]*Cluster{},
		Users:    map[string]*User{},
		Contexts: map[string]*Context{},
	}
	for _, f := range files {
		if f == nil {
			continue
		}
		out.Sources = append(out.Sources, f.Sources...)
		if out.CurrentContext == "" {
			out.CurrentContext = f.CurrentContext
		}
		addMissing(out.Clusters, f.Clusters)
		addMissing(out.Users, f.Users)
		addMissing(out.Contexts, f.Contexts)
	}
	return out
}

// addMissing copies the entries of src whose names dst does not hold yet.
func addMissing[V any](dst, src map[string]V) {
	for n, v := range src {
		if _, ok := dst[n]; !ok {
			dst[n] = v
		}
	}
}

// readFiles reads the KUBECONFIG list: missing files are skipped, any
// other failure is returned.
func readFiles(paths []string) (*File, error) {
	var files []*File
	seen := map[string]bool{}
	for _, p := range paths {
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		f, err := ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return Merge(files...), nil
}
