// Package kubeconfig turns kubeconfig files, or a pod's service account,
// into a *transport.Config.
//
// # Loading rules
//
// Load follows kubectl: an explicit Options.Path, else the files listed in
// $KUBECONFIG merged so that the first file to define a cluster, user or
// context name wins (as does the first current-context), else
// ~/.kube/config, else the in-cluster service account, else ErrNoConfig.
//
//	cfg, err := kubeconfig.Load(nil)
//	if errors.Is(err, kubeconfig.ErrNoConfig) {
//		// no cluster configured
//	}
//
// Options.Context, Namespace, Cluster and User override what the file
// chooses. The namespace ends up in transport.Config.Namespace: the
// override, else the context's, else "default".
//
// # Files and contexts
//
// Read returns the merged files as a *File so a program can list contexts
// (File.ContextNames) and build the configuration of any of them
// (File.Config). Parse and LoadBytes work on a document in memory.
// Relative paths (certificate-authority, client-certificate, client-key,
// tokenFile, and exec commands containing a path separator) are resolved
// against the folder of the file that defined the entry. *-data fields are
// base64. Files larger than MaxFileSize are refused, and so is a file that
// names two clusters, users or contexts alike (as kubectl does).
//
// # Errors
//
// A broken kubeconfig gives an *Error naming the file and the field, such
// as
//
//	kubeconfig /home/me/.kube/config: users["me"].client-certificate-data: invalid base64: ...
//
// YAML syntax errors carry the line number. Files the chosen context refers
// to (certificate-authority, client-certificate, client-key, and tokenFile
// when no token is given inline) must be readable when the configuration is
// built, as kubectl requires; a missing one is reported with its field
// rather than by the first request. The CA must hold a PEM certificate, the
// client certificate must parse and the client key must parse and belong
// to it; each failure names the file and the field. A CA, client
// certificate or key given both inline (*-data) and as a file is refused,
// as kubectl refuses it, rather than one silently winning. Errors about a
// server or proxy-url never quote the URL (its user info may hold a
// password).
//
// # Credentials
//
// kubectl's precedence: a user's static credential (token or tokenFile,
// username/password, or a client certificate) wins over its exec section,
// whose plugin then never runs (logged at debug level). A context without a
// user sends no credentials (kubectl would prompt); that is logged at debug
// level to Options.Logger. Credentials for an http:// server are refused
// by transport.New unless Options.AllowPlainHTTPCredentials is set.
//
// A server without a scheme is taken as https:// (kubectl 1.32 takes
// http://): https is the safe reading. When such a server answers in plain
// HTTP, the request's error says so and to write http:// explicitly.
// disable-compression turns off gzip. An https:// proxy-url is verified
// against the system roots plus Options.ProxyCAFile (kubeconfig has no field
// for a proxy CA), never against the cluster's CA.
//
// # In-cluster
//
// InCluster reads KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT and
// the token, ca.crt and namespace files of the mounted service account. The
// token file is kept in BearerTokenFile so transport picks up rotation.
//
// # Exec credential plugins
//
// A user with an exec section (client.authentication.k8s.io/v1 or v1beta1)
// gets an *ExecProvider as transport.Config.Credentials. It runs the
// plugin with KUBERNETES_EXEC_INFO set, stdin not a terminal and a timeout
// (Options.ExecTimeout, one minute by default, which client-go lacks), caches
// the token or client certificate until a minute before it expires, and
// lets concurrent callers share one run. Credentials whose
// expirationTimestamp is already past, or within the minute, by our clock
// (the plugin's clock behind ours) are used for 10 seconds before the
// plugin runs again, so clock skew cannot make every request run it; a 401
// still forces a run at once.
//
// The plugin runs in a process group of its own, and the timeout kills the
// whole group, so a child it forked does not outlive it. Its stderr is
// captured, not passed through: when it fails, the error quotes the first
// 1 KiB, control characters replaced (stderr may hold secrets; the rest is
// dropped). A missing program (with the installHint), a failing one, bad
// output and a timeout each give a clear error.
//
// The legacy auth-provider section is not supported.
package kubeconfig
